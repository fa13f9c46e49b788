-- Analyst question 6: what has the page itself said KFOR's strength is, version by version?
-- The page's own series (marts.fct_page_strength): each version's figure for "today", from when the
-- page said it (valid time, rule V2) until the next version. Older versions of the page extend it
-- back; the bundled page alone gives one row. Versions that state no figure for today show
-- "no figure", not the previous figure carried forward.
select
    (valid_from at time zone 'UTC')::date as said_from,  -- UTC days, in any session (rule V6)
    (valid_to at time zone 'UTC')::date as said_until,
    page_date,
    case when approximation is null or approximation = 'exact' then '' else approximation || ' ' end
        || coalesce(format('{:,}', troops), 'no figure') as stated,
    troops,
    contributing_nations,
    troops - lag(troops) over (order by valid_from) as change_from_previous_version,
    content_sha256
from {{ ref('fct_page_strength') }}
order by valid_from
