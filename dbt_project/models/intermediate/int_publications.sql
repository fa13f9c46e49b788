-- Each fetch that published a version, in fetch-log order (the log, not file times, orders
-- versions). A version can be published more than once (v1, v2, v1 again after a revert).
select
    row_number() over (order by f.log_seq) as publication_seq,
    f.log_seq,
    f.content_sha256,
    f.fetched_at as published_at,
    f.fetch_id,
    f.url,
    f.source,
    f.etag,
    f.last_modified,
    f.body_sha256
from {{ ref('stg_raw__fetch_log') }} as f
inner join {{ ref('stg_raw__page_versions') }} as v using (content_sha256)
where f.outcome = 'published'
