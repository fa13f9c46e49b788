-- Analyst question 4: how many dated events does the page state per year?
-- Every year from the first event through the page's own "Last updated" year, with zeros for
-- years without events. An event counts in the year its period starts (event_date); its
-- precision is kept in fct_event (a "2016" event is the whole year, "autumn 2023" a season).
-- Assumptions of command (one per tenure) are counted apart from the other events.
with years as (
    select distinct year
    from {{ ref('dim_date') }}
    where year between (select min(year(event_date)) from {{ ref('fct_event') }})
        and (select year(page_last_updated) from {{ ref('meta') }})
),

events as (
    select year(event_date) as year, event_type
    from {{ ref('fct_event') }}
)

select
    y.year,
    count(e.event_type) as events,
    count(e.event_type) filter (where e.event_type = 'assumption_of_command')
        as assumptions_of_command,
    count(e.event_type) filter (where e.event_type <> 'assumption_of_command') as other_events,
    coalesce(string_agg(distinct e.event_type, ', ' order by e.event_type)
        filter (where e.event_type <> 'assumption_of_command'), '') as other_event_types
from years as y
left join events as e on e.year = y.year
group by y.year
order by y.year
