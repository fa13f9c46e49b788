-- Every version with its page date (relative words resolve against it) and fetch bookkeeping.
with fetches as (
    select
        content_sha256,
        min(fetched_at) as first_fetched_at,
        max(fetched_at) as last_fetched_at,
        count(*) as fetch_count
    from {{ ref('stg_raw__fetch_log') }}
    where outcome in ('published', 'unchanged')
    group by content_sha256
),

latest as (
    select content_sha256
    from {{ ref('int_publications') }}
    order by publication_seq desc
    limit 1
)

select
    v.content_sha256,
    v.body_sha256,
    v.title,
    v.page_last_updated,
    v.page_last_updated::date as page_date,
    v.parser_version,
    f.first_fetched_at,
    f.last_fetched_at,
    coalesce(f.fetch_count, 0) as fetch_count,
    v.content_sha256 = (select content_sha256 from latest) as is_current
from {{ ref('stg_raw__page_versions') }} as v
left join fetches as f using (content_sha256)
