-- Every calendar day from 1999-01-01 through one year past the latest date the page's content
-- reaches (tenures, troop periods, events).
with bounds as (
    select max(d) + interval 1 year as last_day
    from (
        select max(coalesce(end_date, start_date)) as d from {{ ref('fct_command_tenure') }}
        union all
        select max(period_end) from {{ ref('fct_troop_level') }}
        union all
        select max(event_end_date) from {{ ref('fct_event') }}
    )
),

days as (
    select unnest(generate_series(date '1999-01-01', (select last_day from bounds), interval 1 day))::date
        as date_day
)

select
    date_day,
    year(date_day)::integer as year,
    quarter(date_day)::integer as quarter,
    month(date_day)::integer as month,
    monthname(date_day) as month_name,
    day(date_day)::integer as day_of_month,
    weekofyear(date_day)::integer as iso_week,
    isoyear(date_day)::integer as iso_year,  -- the year iso_week belongs to: 2021-01-01 is 2020-W53
    strftime(date_day, '%G-W%V') as iso_year_week,
    isodow(date_day) in (6, 7) as is_weekend
from days
