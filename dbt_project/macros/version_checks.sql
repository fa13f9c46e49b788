{#- What the checks against the previous version compare (rules P1-P6 of docs/rules.md). -#}

{#- Every version next to the one before it in the page's history (valid time, rule V3): one row
    per span of sightings, its version and the previous span's (null for the first). A live
    refresh is so compared with the published version, and an imported capture with its
    neighbours in valid time (P1); every pair is checked in every build, so a replay checks what
    each refresh checked. A span opened by a rollback is not compared: an operator re-published a
    file audited when it was first published (P1), so a replay through a rollback passes. -#}
{% macro compared_versions() %}
    select
        content_sha256 as new_sha256,
        lag(content_sha256) over (order by span_seq) as previous_sha256,
        opened_by
    from {{ ref('int_version_spans') }}
    qualify opened_by is distinct from 'rollback'
{% endmacro %}

{#- True when the corrections seed accepts what `check` flags in `version` (P6): a row with
    fact 'accept', field = the check's name, content_sha256 = the flagged version. -#}
{% macro accepted(check, version) -%}
    exists (
        select 1 from {{ ref('corrections') }} as a
        where a.fact = 'accept' and a.field = '{{ check }}' and a.content_sha256 = {{ version }}
    )
{%- endmacro %}

{#- The checks a corrections row may accept (P6). -#}
{% macro acceptable_checks() -%}
    ('assert_current_strength_plausible', 'assert_past_tenures_kept',
     'assert_page_date_not_backwards', 'assert_page_date_not_in_future')
{%- endmacro %}
