-- NATO membership of every nation as of every published version's page date (rule A1 of
-- docs/rules.md): one row per version and nation. dim_nation answers for the newest version only.
select
    md5(v.content_sha256 || '|' || n.nation_key) as membership_key,
    v.content_sha256,
    p.page_date,
    n.nation_key,
    coalesce(n.nato_member_since <= p.page_date, false) as is_nato_member_as_of_page,
    v.is_newest_version
from {{ ref('fct_page_version') }} as v
inner join {{ ref('int_page_versions') }} as p using (content_sha256)
cross join {{ ref('dim_nation') }} as n
