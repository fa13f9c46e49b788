-- Who is on duty each day, for every version with a commanders list: one row per version and day
-- from 9 June 1999 to the version's page date, with the tenures on duty that day by the handover
-- rule H1 of docs/rules.md. tenure_key is the one on duty, null on a day with none or with two,
-- which fails one_commander_on_duty_each_day (rule H2). Versions without a commanders list are
-- exempt (H2): they have no rows here.
with versions as (
    select v.content_sha256, v.page_date
    from {{ ref('int_page_versions') }} as v
    where exists (
        select 1 from {{ ref('int_command_tenures') }} as t where t.content_sha256 = v.content_sha256
    )
),

days as (
    select
        content_sha256,
        {{ day_series("date '1999-06-09'", 'page_date') }} as date_day
    from versions
),

on_duty as (
    select
        d.content_sha256,
        d.date_day,
        count(t.tenure_key) as commanders_on_duty,
        min(t.tenure_key) as first_tenure_key  -- no string_agg: it doubles the cost per version
    from days as d
    left join {{ ref('int_command_tenures') }} as t
        on t.content_sha256 = d.content_sha256
        and d.date_day >= t.on_duty_from
        and d.date_day < t.on_duty_until
    group by d.content_sha256, d.date_day
)

select
    content_sha256,
    date_day,
    commanders_on_duty,
    case when commanders_on_duty = 1 then first_tenure_key end as tenure_key
from on_duty
