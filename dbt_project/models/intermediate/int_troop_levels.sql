-- Strength figures of every version with their periods. A figure stated twice in a version (same
-- force, type, personnel and period) is one row: the first statement. The key of a figure dated
-- by the page itself ("today", present tense) leaves the date out: the page's current figure
-- keeps its key across versions, so a revision is a change, not a removal and an addition.
with figures as (
    select
        f.*,
        {{ period_bounds('f.period_text', 'v.page_date') }} as period
    from {{ ref('stg_raw__troop_figures') }} as f
    inner join {{ ref('int_page_versions') }} as v using (content_sha256)
),

keyed as (
    select
        *,
        md5(concat_ws('|', force, figure_type, personnel,
                      case when period_text = 'today' then 'as of the page date'
                           else concat_ws('|', {{ period_part('period', 'period_start') }},
                                     {{ period_part('period', 'period_end') }}) end))
            as troop_level_key
    from figures
),

ranked as (
    select
        *,
        row_number() over (partition by content_sha256, troop_level_key order by figure_ordinal)
            as statement_rank
    from keyed
)

select
    content_sha256,
    troop_level_key,
    force,
    figure_type,
    personnel,
    {{ period_part('period', 'period_start') }} as period_start,
    {{ period_part('period', 'period_end') }} as period_end,
    {{ period_part('period', 'date_precision') }} as date_precision,
    troops,
    troops_low,
    troops_high,
    approximation,
    contributing_nations,
    force = 'KFOR' and figure_type = 'reported' and period_text = 'today' as is_current,
    period_text,
    troops_text,
    date_rule,
    source_section,
    source_sentence
from ranked
where statement_rank = 1  -- a figure stated twice: its first statement
