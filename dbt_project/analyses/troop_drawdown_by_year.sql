-- Analyst question 3: how did KFOR's strength fall, year by year?
-- Only what the page reports: KFOR's reported troop figures (not authorised levels or mandated
-- maxima, not other forces). One row per year in which a reported figure's period ends; years
-- the page gives no figure for are absent, not interpolated. The year's figure is its latest
-- statement (latest period_start; the tighter period on a tie), shown with its own period,
-- precision and approximation word ("some 50,000" is not an exact count). `all_figures_in_year`
-- lists every reported figure of that year; `change_pct` compares with the previous row, which
-- may be years earlier (`years_since_previous`).
with reported as (
    select
        year(period_end) as year,
        troops,
        approximation,
        case when period_text = 'today' then 'today, ' || strftime(period_start, '%-d %b %Y')
            else period_text end as period_text,
        period_start,
        period_end,
        date_precision,
        case when approximation = 'exact' then '' else approximation || ' ' end
            || format('{:,}', troops) as stated
    from {{ ref('fct_troop_level') }}
    where force = 'KFOR' and figure_type = 'reported' and personnel = 'troops'
),

latest as (  -- the year's latest statement: latest period_start, the tighter period on a tie
    select *
    from reported
    qualify row_number() over (partition by year order by period_start desc, period_end) = 1
),

per_year as (
    select
        year,
        count(*) as figures_in_year,
        string_agg(stated || ' (' || period_text || ')', '; ' order by period_start, period_end)
            as all_figures_in_year
    from reported
    group by year
)

select
    l.year,
    l.troops,
    l.stated,
    l.period_text as period,
    l.date_precision,
    l.period_start,
    l.period_end,
    l.year - lag(l.year) over (order by l.year) as years_since_previous,
    round(100.0 * (l.troops - lag(l.troops) over (order by l.year))
        / lag(l.troops) over (order by l.year), 1) as change_pct,
    p.figures_in_year,
    p.all_figures_in_year
from latest as l
inner join per_year as p using (year)
order by l.year
