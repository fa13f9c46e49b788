-- Every calendar day from 1999-01-01 through one year past the latest date the page's content
-- reaches (tenures, troop periods, events).
with bounds as (
    select max(d) + interval '1 year' as last_day
    from (
        select max(coalesce(end_date, start_date)) as d from {{ ref('fct_command_tenure') }}
        union all
        select max(period_end) from {{ ref('fct_troop_level') }}
        union all
        select max(event_end_date) from {{ ref('fct_event') }}
    ) as content_dates
),

days as (
    select {{ day_series("date '1999-01-01'", '(select last_day from bounds)') }} as date_day
)

select
    date_day,
    extract(year from date_day)::integer as year,
    extract(quarter from date_day)::integer as quarter,
    extract(month from date_day)::integer as month,
    {{ month_name('date_day') }} as month_name,
    extract(day from date_day)::integer as day_of_month,
    extract(week from date_day)::integer as iso_week,  -- ISO 8601, as isoyear
    extract(isoyear from date_day)::integer as iso_year,  -- iso_week's year: 2021-01-01 is 2020-W53
    {{ iso_year_week('date_day') }} as iso_year_week,
    extract(isodow from date_day) in (6, 7) as is_weekend
from days
