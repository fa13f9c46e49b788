-- Analyst question 5: who was in command of KFOR on a given date?
-- The date is 2010-01-01 (change it here, or compile with
-- `dbt compile --select commander_on_date --vars '{on_date: "2015-06-01"}'`).
-- A tenure covers start_date through end_date; the current one (end_date null) runs to the page's
-- "Last updated" date, beyond which the page says nothing. On a handover day the outgoing and the
-- incoming commander both cover the date: both rows are returned, the incoming one marked.
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
    t.is_current,
    a.on_date - t.start_date as days_in_command_so_far,
    t.start_date = a.on_date and t.command_sequence > 1 as assumed_command_that_day
from asked as a
inner join {{ ref('fct_command_tenure') }} as t
    on a.on_date >= t.start_date
    and a.on_date <= coalesce(t.end_date, (select page_last_updated::date from {{ ref('meta') }}))
inner join {{ ref('dim_commander') }} as c on c.commander_key = t.commander_key
inner join {{ ref('dim_nation') }} as n on n.nation_key = t.nation_key
order by t.command_sequence
