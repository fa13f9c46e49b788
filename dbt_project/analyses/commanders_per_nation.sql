-- Analyst question 1: how many commanders has each nation given KFOR?
-- One row per nation that has held the command: distinct commanders, tenures, days in command
-- (the current tenure counts to the page's own "Last updated" date), first and latest start.
-- Nations are the page's NATO codes (STANAG 1059: GE = Germany, not ISO's DE); dim_nation names them.
select
    n.nation_name,
    n.nato_code,
    count(distinct t.commander_key) as commanders,
    count(*) as tenures,
    sum(t.tenure_days)::bigint as days_in_command,
    min(t.start_date) as first_start,
    max(t.start_date) as latest_start
from {{ ref('fct_command_tenure') }} as t
inner join {{ ref('dim_nation') }} as n on n.nation_key = t.nation_key
group by n.nation_name, n.nato_code
order by commanders desc, days_in_command desc, n.nation_name
