-- One row per person who commanded KFOR, as the newest page version describes them (rank and
-- nation of their latest tenure).
with tenures as (
    select *
    from (
        select
            *,
            row_number() over (partition by commander_key order by command_sequence desc)
                as latest_first
        from {{ ref('int_command_tenures') }}
        where content_sha256 = {{ current_version() }}
    ) as by_person
    where latest_first = 1
)

select
    t.commander_key,
    t.full_name,
    t.honorific,
    t.rank_abbreviation,
    r.rank_name,
    r.nato_rank_code,
    t.nation_key,
    t.service_code,
    s.service_name,
    t.content_sha256,
    t.source_text
from tenures as t
left join {{ ref('ranks') }} as r on t.rank_abbreviation = r.rank_abbreviation
left join {{ ref('services') }} as s on t.service_code = s.service_code
