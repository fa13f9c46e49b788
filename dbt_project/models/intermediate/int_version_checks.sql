-- Each span of the page's history next to the span before it (rule P1 of docs/rules.md), with
-- what the checks against the previous version compare and their verdicts: KFOR's strength for
-- today (P2), the stamp against the previous one (P4) and against the version's first sighting
-- (P5), and whether a corrections row accepts each (P6). The first span has no previous version
-- and is checked against its own sightings only. assert_current_strength_plausible,
-- assert_page_date_not_backwards and assert_page_date_not_in_future name the rows that fail.
with pairs as ({{ compared_versions() }}),

today as (  -- KFOR's figure for today (T6), one per version
    select content_sha256, troops
    from (
        select
            content_sha256,
            troops,
            row_number() over (partition by content_sha256 order by troops) as figure_rank
        from {{ ref('int_troop_levels') }}
        where is_current
    ) as figures
    where figure_rank = 1
),

versions as (
    select v.content_sha256, v.page_date, v.page_last_updated_utc, v.first_sighted_at, t.troops
    from {{ ref('int_page_versions') }} as v
    left join today as t using (content_sha256)
),

compared as (
    select
        pairs.span_seq,
        pairs.new_sha256 as content_sha256,
        pairs.previous_sha256 as previous_content_sha256,
        pairs.opened_by,
        n.page_date,
        p.page_date as previous_page_date,
        abs(n.page_date - p.page_date) / 365.25 as years_apart,  -- D1: the pages' own dates
        n.troops as today_troops,
        p.troops as previous_today_troops,
        greatest(n.troops, p.troops)::double precision / nullif(least(n.troops, p.troops), 0)
            as strength_factor,
        n.page_last_updated_utc,
        p.page_last_updated_utc as previous_page_last_updated_utc,
        n.first_sighted_at
    from pairs
    inner join versions as n on n.content_sha256 = pairs.new_sha256
    left join versions as p on p.content_sha256 = pairs.previous_sha256
)

select
    *,
    {{ strength_change_is_implausible('previous_today_troops', 'today_troops', 'years_apart') }}
        as is_strength_implausible,
    -- P4, on the instants (V4): an equal stamp passes
    coalesce(page_last_updated_utc < previous_page_last_updated_utc, false)
        as is_page_date_backwards,
    -- P5: the page cannot have been updated after the warehouse first saw it (skew allowed, P7)
    coalesce(page_last_updated_utc > first_sighted_at + {{ clock_skew() }}, false)
        as is_page_date_after_first_sighting,
    {{ accepted('assert_current_strength_plausible', 'compared.content_sha256') }}
        as is_strength_accepted,
    {{ accepted('assert_page_date_not_backwards', 'compared.content_sha256') }}
        as is_backwards_accepted,
    {{ accepted('assert_page_date_not_in_future', 'compared.content_sha256') }}
        as is_after_first_sighting_accepted
from compared
