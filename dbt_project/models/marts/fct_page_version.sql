-- One row per page version (version key) that was published, with its sightings (rule V1: the
-- capture time of an imported capture, the fetch time of a live fetch) beside its fetch
-- bookkeeping. is_newest_version marks the version the marts describe; is_current is its old name
-- (an alias). Every time is an instant (V6).
select
    content_sha256,
    title,
    page_last_updated,
    page_last_updated_utc,
    'Europe/Brussels' as page_time_zone,
    valid_from,
    recorded_at,
    first_sighted_at,
    last_sighted_at,
    first_fetched_at,
    last_fetched_at,
    fetch_count,
    is_current as is_newest_version,
    is_current,
    body_sha256,
    parser_version
from {{ ref('int_page_versions') }}
where fetch_count > 0
