-- Every version with its page date (relative words resolve against it, rule D1; a version without
-- a stamp: its first sighting, rule V5), its valid time, its sightings (V1: the capture time of an
-- imported capture) and fetch bookkeeping.
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

spans as (
    select
        content_sha256,
        min(valid_from) as valid_from,
        min(first_sighted_at) as first_sighted_at,
        max(last_sighted_at) as last_sighted_at,
        min(recorded_at) as recorded_at,
        bool_or(is_newest) as is_newest
    from {{ ref('int_version_spans') }}
    group by content_sha256
)

select
    v.content_sha256,
    v.body_sha256,
    v.title,
    v.page_last_updated,
    v.page_last_updated_utc,
    -- the Brussels day of the first sighting (V5), whatever the session's time zone (V6)
    coalesce(v.page_last_updated::date, (s.first_sighted_at at time zone 'Europe/Brussels')::date)
        as page_date,
    v.parser_version,
    s.valid_from,
    s.first_sighted_at,
    s.last_sighted_at,
    s.recorded_at,
    f.first_fetched_at,
    f.last_fetched_at,
    coalesce(f.fetch_count, 0) as fetch_count,
    coalesce(s.is_newest, false) as is_current
from {{ ref('stg_raw__page_versions') }} as v
left join fetches as f using (content_sha256)
left join spans as s using (content_sha256)
