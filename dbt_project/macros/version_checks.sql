{#- What the checks against the previous version compare (rules P1-P7 of docs/rules.md). The
    decisions live in models (int_version_checks, int_tenures_lost, int_time_checks,
    int_acceptances) so that dbt unit tests pin them; the assert_* tests only name the failures. -#}

{#- Every version next to the one before it in the page's history (valid time, rule V3): one row
    per span of sightings, its version and the previous span's (null for the first). A live
    refresh is so compared with the published version, and an imported capture with its
    neighbours in valid time (P1); every pair is checked in every build, so a replay checks what
    each refresh checked. A span opened by a rollback is not compared: an operator re-published a
    file audited when it was first published (P1), so a replay through a rollback passes. -#}
{% macro compared_versions() %}
    select span_seq, new_sha256, previous_sha256, opened_by
    from (
        select
            span_seq,
            content_sha256 as new_sha256,
            lag(content_sha256) over (order by span_seq) as previous_sha256,
            opened_by
        from {{ ref('int_version_spans') }}
    ) as spans
    where opened_by is distinct from 'rollback'
{% endmacro %}

{#- P2: KFOR's strength for today changes implausibly between two versions `years_apart` apart
    (page dates, D1): by more than strength_change_factor (either way) while they are less than
    strength_check_years apart. A figure that is missing or not positive compares nothing (its
    own tests judge it). The limits are vars in dbt_project.yml. -#}
{% macro strength_change_is_implausible(previous_troops, troops, years_apart) -%}
    coalesce(
        least({{ previous_troops }}, {{ troops }}) > 0
        and {{ years_apart }} < {{ var('strength_check_years') }}
        and greatest({{ previous_troops }}, {{ troops }})::double precision
            / least({{ previous_troops }}, {{ troops }}) > {{ var('strength_change_factor') }},
        false)
{%- endmacro %}

{#- True when the corrections seed accepts what `check` flags in `version` (P6): a row with
    fact 'accept', field = the check's name, content_sha256 = the flagged version. `version`
    must be qualified by its table: a bare content_sha256 would name the seed's own column. -#}
{% macro accepted(check, version) -%}
    exists (
        select 1 from {{ ref('corrections') }} as a
        where a.fact = 'accept' and a.field = '{{ check }}' and a.content_sha256 = {{ version }}
    )
{%- endmacro %}

{#- The checks a corrections row may accept (P6). A time in the future (P7) is not among them: it
    cannot be true, and believed it would make a version current before its time. -#}
{% macro acceptable_checks() -%}
    ('assert_current_strength_plausible', 'assert_past_tenures_kept',
     'assert_page_date_not_backwards', 'assert_page_date_not_in_future')
{%- endmacro %}
