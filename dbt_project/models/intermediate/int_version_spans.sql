-- The page's own history: runs of consecutive sightings of one version (spans), each valid from
-- its version's "Last updated" stamp or from its first sighting (rule V2), in valid-time order
-- (rule V3). A version seen again after another (a revert) opens a new span.
with sightings as (
    select
        *,
        lag(content_sha256) over (order by sighted_at, log_seq) as previous_content_sha256
    from {{ ref('int_sightings') }}
),

numbered as (
    select
        *,
        sum(case when previous_content_sha256 is distinct from content_sha256 then 1 else 0 end)
            over (order by sighted_at, log_seq rows unbounded preceding) as sighting_span
    from sightings
),

spans as (
    select
        sighting_span,
        {{ any_value_of('content_sha256') }} as content_sha256,
        min(sighted_at) as first_sighted_at,
        max(sighted_at) as last_sighted_at,
        min(recorded_at) as recorded_at,
        {{ arg_min('source', 'log_seq') }} as opened_by,
        count(*) as sightings
    from numbered
    group by sighting_span
),

stamped as (
    select
        s.*,
        v.page_last_updated_utc,
        lag(s.last_sighted_at) over (order by s.sighting_span) as previous_last_sighted_at
    from spans as s
    inner join {{ ref('stg_raw__page_versions') }} as v using (content_sha256)
),

valid as (
    select
        *,
        coalesce(page_last_updated_utc > previous_last_sighted_at, true)
            and page_last_updated_utc <= first_sighted_at as is_stamp_valid
    from stamped
),

ordered as (
    select
        row_number() over (order by
            case when is_stamp_valid then page_last_updated_utc else first_sighted_at end,
            first_sighted_at, content_sha256) as span_seq,
        content_sha256,
        case when is_stamp_valid then page_last_updated_utc else first_sighted_at end
            as valid_from,
        case when is_stamp_valid then 'page_stamp' else 'first_sighting' end as valid_from_basis,
        first_sighted_at,
        last_sighted_at,
        recorded_at,
        opened_by,
        sightings
    from valid
)

select
    span_seq,
    content_sha256,
    valid_from,
    lead(valid_from) over (order by span_seq) as valid_to,
    valid_from_basis,
    first_sighted_at,
    last_sighted_at,
    recorded_at,
    lead(recorded_at) over (order by span_seq) as closed_recorded_at,
    opened_by,
    sightings,
    span_seq = max(span_seq) over () as is_newest
from ordered
