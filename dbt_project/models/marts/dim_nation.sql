-- Every NATO member and every partner nation the page may name, by NATO's two-letter code
-- (STANAG 1059: GE = Germany, SP = Spain, TU = Turkiye, UK = United Kingdom; not ISO 3166).
-- Membership is as of the page's date of the version the marts describe (rule A1 of
-- docs/rules.md), never today's: Sweden is no member on a page of 20 Nov 2023.
with page as (
    select page_date from {{ ref('int_page_versions') }} where is_current
)

select
    n.nato_code as nation_key,
    n.nato_code,
    n.iso_alpha2,
    n.iso_alpha3,
    n.nation_name,
    n.nato_member_since,
    coalesce(n.nato_member_since <= page.page_date, false) as is_nato_member_as_of_page,
    coalesce(n.nato_member_since <= page.page_date, false) as is_nato_member,
    page.page_date as membership_as_of
from {{ ref('nato_nations') }} as n
cross join page
