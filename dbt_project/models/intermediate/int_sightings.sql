-- Every time the page was seen showing a version (rule V1): a fetch that published it or found it
-- unchanged, at its fetch time, or an imported archive capture, at its capture time. A fetch that
-- fell back to the archive (offline) saw nothing and is not a sighting unless it published.
select
    f.log_seq,
    f.fetch_id,
    f.content_sha256,
    coalesce(f.captured_at, f.fetched_at) as sighted_at,
    f.fetched_at as recorded_at,
    f.source,
    f.outcome
from {{ ref('stg_raw__fetch_log') }} as f
inner join {{ ref('stg_raw__page_versions') }} as v using (content_sha256)
where f.outcome = 'published'
    or (f.outcome = 'unchanged' and f.source is distinct from 'archive')
