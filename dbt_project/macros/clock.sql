{#- Time (rules V4, V6, P5, P7 of docs/rules.md). Every time the warehouse stores is an instant,
    `timestamp with time zone`; nothing here depends on the session's TimeZone (the TZ of the
    process that runs dbt), so a text or a date is taken from an instant only in a named zone. -#}

{#- A fetch-log time as the instant it names: log_time in adapter_sql.sql. -#}

{#- An instant as text, its UTC wall clock ('2023-11-20 16:24:00'), the same in every session:
    for keys built from times (the text a UTC `timestamp` had, so keys did not move). -#}
{% macro utc_text(instant) -%}
    (({{ instant }}) at time zone 'UTC')::varchar
{%- endmacro %}

{#- The clock skew allowed between two clocks (ours, the archive's, the CMS's): P5, P7. The one
    place it is set is the var clock_skew_minutes in dbt_project.yml. -#}
{% macro clock_skew() -%}
    (interval '1 minute' * {{ var('clock_skew_minutes') }})
{%- endmacro %}

{#- The latest instant a time may name in this build (P7): the build's clock plus the skew. -#}
{% macro latest_believable_time() -%}
    (now() + {{ clock_skew() }})
{%- endmacro %}
