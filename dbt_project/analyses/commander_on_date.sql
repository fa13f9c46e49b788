-- Analyst question 5: who was in command of KFOR on a given date?
-- The date is 2010-01-01 (change it here, or compile with
-- `dbt compile --select commander_on_date --vars '{on_date: "2015-06-01"}'`).
-- Exactly one commander on every day from 9 June 1999 to the page's "Last updated" date, by the
-- handover rule H1 of docs/rules.md (on a handover day, the incoming commander:
-- assumed_command_that_day); outside those days the page says nothing and no row is returned.
-- fct_commander_on_duty holds that one row per day; from fct_command_tenure alone the same join
-- is `on_date >= on_duty_from and on_date < on_duty_until`, never `between start_date and
-- end_date`, which returns two commanders on 23 handover days.
{% set on_date = var('on_date', '2010-01-01') %}
with asked as (
    select date '{{ on_date }}' as on_date
)

select
    a.on_date,
    t.command_sequence,
    t.rank_abbreviation as rank,
    c.honorific,
    c.full_name,
    n.nation_name,
    t.start_date,
    t.end_date,
    t.is_in_office,
    d.days_in_command_so_far,
    d.is_handover_day as assumed_command_that_day
from asked as a
inner join {{ ref('fct_commander_on_duty') }} as d on d.date_day = a.on_date
inner join {{ ref('fct_command_tenure') }} as t on t.tenure_key = d.tenure_key
inner join {{ ref('dim_commander') }} as c on c.commander_key = t.commander_key
inner join {{ ref('dim_nation') }} as n on n.nation_key = t.nation_key
