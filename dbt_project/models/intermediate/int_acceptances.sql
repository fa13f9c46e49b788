-- The acceptances of the corrections seed (fact 'accept', rule P6 of docs/rules.md), each with
-- what is wrong with it, if anything: it must name one of the checks a row may accept, a loaded
-- page version and a reason, and nothing else (no ordinal, page_value or corrected_value), so a
-- typo never silently accepts nothing. assert_acceptances_name_a_check names the faulty rows.
select
    c.content_sha256,
    c.field as accepted_check,
    c.reason,
    case
        when c.field is null or c.field not in {{ acceptable_checks() }}
            then 'names no check a row may accept'
        when c.content_sha256 is null
            or c.content_sha256 not in (select content_sha256 from {{ ref('int_page_versions') }})
            then 'names no loaded page version'
        when trim(coalesce(c.reason, '')) = '' then 'gives no reason'
        when c.ordinal is not null or c.page_value is not null or c.corrected_value is not null
            then 'fills a column only a correction uses'
    end as problem
from {{ ref('corrections') }} as c
where c.fact = 'accept'
