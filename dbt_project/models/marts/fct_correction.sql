-- Every operator correction (seeds/corrections.csv) and whether it applies: the page version, fact
-- and field exist and the page still says page_value there. A correction that no longer matches
-- anything fails assert_corrections_apply.
with on_page as (
    {{ facts_long(source('raw', 'commander'), 'commander', 'ordinal', 'full_name',
                  ['rank', 'honorific', 'full_name', 'nation_code', 'service_code', 'start_text',
                   'end_text']) }}
    union all
    {{ facts_long(source('raw', 'troop_figure'), 'troop_figure', 'ordinal', 'source_text',
                  ['force', 'figure_type', 'personnel', 'troops_text', 'approximation',
                   'period_text', 'contributing_nations_text']) }}
    union all
    {{ facts_long(source('raw', 'event_mention'), 'event_mention', 'ordinal', 'source_text',
                  ['event_type', 'period_text']) }}
)

select
    md5(concat_ws('|', c.content_sha256, c.fact, c.ordinal, c.field)) as correction_key,
    c.content_sha256,
    c.fact,
    c.ordinal,
    c.field,
    c.page_value,
    c.corrected_value,
    c.reason,
    p.entity_label as fact_on_page,
    p.value as value_on_page,
    p.content_sha256 is not null and p.value is not distinct from c.page_value as is_applied
from {{ ref('corrections') }} as c
left join on_page as p
    on p.content_sha256 = c.content_sha256
    and p.entity = c.fact
    and p.entity_key = c.ordinal
    and p.field = c.field
