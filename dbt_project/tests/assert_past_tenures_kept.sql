-- Each version keeps every tenure of the version before it in valid time (P1, P3): same commander
-- key, same start, same end, except that the tenure open before may be closed. One row per tenure
-- lost or rewritten; a corrections row can accept them (P6). It replaces
-- assert_commanders_did_not_drop: previous tenures matched one to one (their starts are unique)
-- cannot outnumber the later version's.
with pair as ({{ compared_versions() }}),

previous as (
    select t.*, pair.new_sha256
    from {{ ref('int_command_tenures') }} as t
    inner join pair on t.content_sha256 = pair.previous_sha256
),

newest as (
    select t.*
    from {{ ref('int_command_tenures') }} as t
    inner join pair on t.content_sha256 = pair.new_sha256
)

select p.new_sha256, p.tenure_key, p.full_name, p.start_date, p.end_date
from previous as p
where not exists (
        select 1 from newest as n
        where n.content_sha256 = p.new_sha256
            and n.commander_key = p.commander_key
            and n.start_date = p.start_date
            and (p.end_date is null or n.end_date = p.end_date)
    )
    -- on the parts both have: a version without a commanders list (an older layout, L1) is exempt
    and exists (select 1 from newest as n where n.content_sha256 = p.new_sha256)
    and not {{ accepted('assert_past_tenures_kept', 'p.new_sha256') }}
