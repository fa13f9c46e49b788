-- The page's own time series of KFOR: one row per version, its "today" figure (rule T6), on valid
-- time (rule V2). A version that states no figure for today has none (null troops), not a guess.
with versions as (
    select content_sha256, page_date, valid_from, recorded_at
    from {{ ref('int_page_versions') }}
    where valid_from is not null
),

today as (
    select content_sha256, troop_level_key, troops, approximation, contributing_nations,
           source_sentence
    from {{ ref('int_troop_levels') }}
    where is_current
)

select
    v.content_sha256,
    v.valid_from,
    lead(v.valid_from) over (order by v.valid_from, v.content_sha256) as valid_to,
    v.page_date,
    t.troops,
    t.approximation,
    t.contributing_nations,
    t.troop_level_key,
    t.source_sentence,  -- the old name of source_text, kept
    v.recorded_at,
    t.source_sentence as source_text
from versions as v
left join today as t using (content_sha256)
