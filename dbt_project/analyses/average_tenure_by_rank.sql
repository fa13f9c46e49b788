-- Analyst question 2: how long does a COMKFOR serve, by the rank held in command?
-- The rank is the one of the tenure (fct_command_tenure.rank_abbreviation), not the person's
-- latest. Averages, median and range are over completed tenures only: the current tenure is still
-- running (its tenure_days counts only to the page's date), so it is counted in `tenures` and
-- `in_office` but left out of the statistics.
select
    r.rank_name,
    t.rank_abbreviation,
    r.nato_rank_code,
    count(*) as tenures,
    count(*) filter (where t.is_in_office) as in_office,
    round(avg(t.tenure_days) filter (where not t.is_in_office), 1) as avg_days_completed,
    median(t.tenure_days) filter (where not t.is_in_office) as median_days_completed,
    min(t.tenure_days) filter (where not t.is_in_office) as shortest_days,
    max(t.tenure_days) filter (where not t.is_in_office) as longest_days,
    min(t.start_date) as first_start,
    max(t.start_date) as latest_start
from {{ ref('fct_command_tenure') }} as t
left join {{ ref('ranks') }} as r on r.rank_abbreviation = t.rank_abbreviation
group by r.rank_name, t.rank_abbreviation, r.nato_rank_code
order by r.nato_rank_code desc, first_start
