-- A version's "Last updated" stamp (Brussels local time) is no later than 6 hours after the
-- version was first seen (its first sighting, UTC: a fetch, or an imported capture's capture
-- time, rule V1) (P5); a corrections row can accept it (P6).
with pair as ({{ compared_versions() }}),

first_seen as (
    select content_sha256, min(sighted_at) as first_seen_at
    from {{ ref('int_sightings') }}
    group by content_sha256
)

select pair.new_sha256, v.page_last_updated, s.first_seen_at
from pair
inner join {{ ref('int_page_versions') }} as v on v.content_sha256 = pair.new_sha256
inner join first_seen as s on s.content_sha256 = pair.new_sha256
where v.page_last_updated > s.first_seen_at + interval 6 hour
    and not {{ accepted('assert_page_date_not_in_future', 'pair.new_sha256') }}
