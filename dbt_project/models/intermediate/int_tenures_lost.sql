-- Past tenures lost (rule P3 of docs/rules.md): each tenure of the version before it in valid time
-- (P1) that the newer version does not keep with the same commander key (C2), start and end (the
-- tenure open before may be closed). One row per tenure lost or rewritten, with whether a
-- corrections row accepts it (P6); assert_past_tenures_kept names the rows not accepted. A newer
-- version without a commanders list (an older layout, L1) is not compared on it. Previous tenures
-- matched one to one (their starts are unique) cannot outnumber the newer version's, so this
-- subsumes a count check.
with pairs as ({{ compared_versions() }}),

previous as (
    select t.*, pairs.new_sha256
    from {{ ref('int_command_tenures') }} as t
    inner join pairs on t.content_sha256 = pairs.previous_sha256
),

newest as (
    select t.*
    from {{ ref('int_command_tenures') }} as t
    where t.content_sha256 in (select new_sha256 from pairs)
)

select
    p.new_sha256 as content_sha256,
    p.content_sha256 as previous_content_sha256,
    p.tenure_key,
    p.commander_key,
    p.full_name,
    p.start_date,
    p.end_date,
    {{ accepted('assert_past_tenures_kept', 'p.new_sha256') }} as is_accepted
from previous as p
where not exists (
        select 1 from newest as n
        where n.content_sha256 = p.new_sha256
            and n.commander_key = p.commander_key
            and n.start_date = p.start_date
            and (p.end_date is null or n.end_date = p.end_date)
    )
    and exists (select 1 from newest as n where n.content_sha256 = p.new_sha256)
