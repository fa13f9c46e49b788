-- Protects the acceptances in the corrections seed from typos and rot (P6): a row with fact
-- 'accept' names one of the checks against the previous version, a loaded page version and a
-- reason, and nothing else (no ordinal, page_value or corrected_value).
select c.*
from {{ ref('corrections') }} as c
where c.fact = 'accept'
    and (
        c.field is null or c.field not in {{ acceptable_checks() }}
        or c.content_sha256 not in (select content_sha256 from {{ ref('int_page_versions') }})
        or trim(coalesce(c.reason, '')) = ''
        or c.ordinal is not null or c.page_value is not null or c.corrected_value is not null
    )
