{#- What the checks against the previous version compare (rules P1-P6 of docs/rules.md). -#}

{#- One row: the newest publication's version and the version published before it (null for the
    first publication). No row when the newest publication is a rollback: an operator re-published
    a file audited when it was first published (P1), so a replay through a rollback passes. -#}
{% macro compared_versions() %}
    with publications as (
        select publication_seq, content_sha256, source from {{ ref('int_publications') }}
    ),

    newest as (
        select * from publications order by publication_seq desc limit 1
    )

    select
        n.content_sha256 as new_sha256,
        (
            select p.content_sha256
            from publications as p
            where p.publication_seq < n.publication_seq and p.content_sha256 <> n.content_sha256
            order by p.publication_seq desc
            limit 1
        ) as previous_sha256
    from newest as n
    where n.source is distinct from 'rollback'
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
