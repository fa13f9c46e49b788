-- Who was in command on each day, for the version the marts describe (the newest): one row per
-- day from 9 June 1999 to the page's date, with the one tenure on duty by the handover rule H1 of
-- docs/rules.md (H2 guarantees exactly one). Join it on date_day; it cannot return two.
select
    d.date_day,
    t.tenure_key,
    t.command_sequence,
    t.commander_key,
    t.nation_key,
    t.rank_abbreviation,
    d.date_day = t.start_date and t.command_sequence > 1 as is_handover_day,
    (d.date_day - t.start_date)::bigint as days_in_command_so_far,  -- days (Postgres: int)
    t.content_sha256
from {{ ref('int_commander_duty_days') }} as d
inner join {{ ref('fct_command_tenure') }} as t
    on t.content_sha256 = d.content_sha256 and t.tenure_key = d.tenure_key
