-- One row per page version (version key) that was published, with its fetch bookkeeping.
select
    content_sha256,
    title,
    page_last_updated,
    page_last_updated_utc,
    'Europe/Brussels' as page_time_zone,
    valid_from,
    recorded_at,
    first_fetched_at,
    last_fetched_at,
    fetch_count,
    is_current,
    body_sha256,
    parser_version
from {{ ref('int_page_versions') }}
where fetch_count > 0
