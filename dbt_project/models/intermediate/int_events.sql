-- Events of every version: the dated statements of the prose and each assumption of command in the
-- commanders list. A happening stated twice is one row (rule E3 of docs/rules.md): statements of the same
-- type whose periods are equal, or where one lies inside the other, merge into the finest one;
-- on equal periods the commanders list wins, then page order.
with mentions as (
    select
        m.content_sha256,
        1 as origin_rank,
        m.mention_ordinal as ordinal,
        m.event_type,
        m.period_text,
        {{ period_bounds('m.period_text', 'v.page_date') }} as period,
        m.source_text as description,
        m.source_section,
        m.source_text,
        null::varchar as commander_key
    from {{ ref('stg_raw__event_mentions') }} as m
    inner join {{ ref('int_page_versions') }} as v using (content_sha256)

    union all

    select
        content_sha256,
        0 as origin_rank,
        command_sequence as ordinal,
        'assumption_of_command' as event_type,
        start_text as period_text,
        {{ period('start_date', 'start_date', "'day'") }} as period,
        concat_ws(' ', rank_abbreviation, honorific, full_name)
            || ' (' || nation_key || ') assumed command of KFOR' as description,
        source_section,
        source_text,
        commander_key
    from {{ ref('int_command_tenures') }}
),

flat as (
    select
        content_sha256,
        origin_rank,
        ordinal,
        event_type,
        period_text,
        description,
        source_section,
        source_text,
        commander_key,
        {{ period_part('period', 'period_start') }} as event_date,
        {{ period_part('period', 'period_end') }} as event_end_date,
        {{ period_part('period', 'date_precision') }} as date_precision
    from mentions
),

kept as (
    select m.*
    from flat as m
    where not exists (
        select 1
        from flat as n
        where
            n.content_sha256 = m.content_sha256
            and n.event_type = m.event_type
            and n.event_date >= m.event_date
            and n.event_end_date <= m.event_end_date
            and (
                n.event_date > m.event_date
                or n.event_end_date < m.event_end_date
                or n.origin_rank < m.origin_rank
                or (n.origin_rank = m.origin_rank and n.ordinal < m.ordinal)
            )
    )
)

select
    k.content_sha256,
    md5(concat_ws('|', k.event_type, k.event_date, k.event_end_date)) as event_key,
    k.event_date,
    k.event_end_date,
    k.date_precision,
    k.event_type,
    k.description,
    k.source_section,
    k.source_text,
    k.period_text,
    k.commander_key,
    (
        select count(*)
        from flat as m
        where
            m.content_sha256 = k.content_sha256
            and m.event_type = k.event_type
            and k.event_date >= m.event_date
            and k.event_end_date <= m.event_end_date
    ) as statement_count
from kept as k
