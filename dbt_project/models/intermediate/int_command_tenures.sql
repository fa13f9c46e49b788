-- Tenures of every version. tenure_key is stable across versions: the person's ASCII-folded name
-- and which of their tenures it is, so a closed tenure or a corrected date is a change, not a new
-- row. on_duty_from / on_duty_until bound the days a tenure is on duty, [from, until), by the
-- handover rule H1 of docs/rules.md (the incoming commander holds the handover day); a longer gap
-- or an overlap is kept as the page wrote it, so the day check sees it (H3).
with commanders as (
    select
        c.*,
        {{ commander_key('c.full_name') }} as commander_key,
        v.page_date
    from {{ ref('stg_raw__commanders') }} as c
    inner join {{ ref('int_page_versions') }} as v using (content_sha256)
)

select
    content_sha256,
    commander_key || '#' || row_number() over (
        partition by content_sha256, commander_key order by command_sequence
    ) as tenure_key,
    command_sequence,
    commander_key,
    nation_code as nation_key,
    rank_abbreviation,
    honorific,
    full_name,
    service_code,
    start_date,
    end_date,
    end_date is null as is_current,
    (coalesce(end_date, page_date) - start_date)::bigint as tenure_days,  -- days (Postgres: int)
    start_date as on_duty_from,
    case
        when end_date is null then page_date + 1
        when end_date = lead(start_date) over by_version then end_date
        else end_date + 1
    end as on_duty_until,
    start_text,
    end_text,
    source_section,
    source_text
from commanders
window by_version as (partition by content_sha256 order by command_sequence)
