-- The change log, in valid-time order (rule V3): for each span of the page's history, every fact
-- added, removed or changed against the span before it (the first span lists everything as
-- added). One row per added/removed fact, and per changed field of a fact present in both. A
-- figure the page dates by its own date ("today", D1) is as of each version's page date: a newer
-- page date alone is no change of it (rule V7), so its period is left out of the comparison.
with changes as (
    select
        span_seq,
        content_sha256,
        valid_from,
        recorded_at,
        lag(content_sha256) over (order by span_seq) as previous_content_sha256
    from {{ ref('int_version_spans') }}
),

troop_levels as (
    select
        content_sha256,
        troop_level_key,
        force,
        figure_type,
        personnel,
        period_text,
        case when period_text = 'today' then null else period_start end as period_start,
        case when period_text = 'today' then null else period_end end as period_end,
        date_precision,
        troops,
        approximation,
        contributing_nations
    from {{ ref('int_troop_levels') }}
),

facts as (
    {{ facts_long(ref('int_command_tenures'), 'tenure', 'tenure_key',
                  "concat_ws(' ', rank_abbreviation, honorific, full_name, '(' || nation_key || ')')",
                  ['command_sequence', 'commander_key', 'nation_key', 'rank_abbreviation',
                   'honorific', 'full_name', 'service_code', 'start_date', 'end_date']) }}
    union all
    {{ facts_long('troop_levels', 'troop_level', 'troop_level_key',
                  "concat_ws(' ', force, figure_type, personnel, case when period_text = 'today' then 'as of the page date' else period_text end)",
                  ['force', 'figure_type', 'personnel', 'period_start', 'period_end',
                   'date_precision', 'troops', 'approximation', 'contributing_nations']) }}
    union all
    {{ facts_long(ref('int_events'), 'event', 'event_key', "event_type || ' ' || period_text",
                  ['event_type', 'event_date', 'event_end_date', 'date_precision',
                   'description']) }}
    union all
    {{ facts_long(ref('stg_raw__sections'), 'section', 'heading_path', 'heading_path',
                  ['heading', 'heading_level', 'section_text']) }}
),

new_side as (
    select c.span_seq, f.*
    from changes as c
    inner join facts as f on f.content_sha256 = c.content_sha256
),

old_side as (
    select c.span_seq, f.*
    from changes as c
    inner join facts as f on f.content_sha256 = c.previous_content_sha256
),

compared as (
    select
        span_seq,
        entity,
        entity_key,
        field,
        coalesce(n.entity_label, o.entity_label) as entity_label,
        o.value as old_value,
        n.value as new_value,
        o.content_sha256 is null as is_new,
        n.content_sha256 is null as is_gone
    from new_side as n
    full outer join old_side as o using (span_seq, entity, entity_key, field)
),

per_fact as (
    select
        span_seq,
        entity,
        entity_key,
        {{ any_value_of('entity_label') }} as entity_label,
        bool_and(is_new) as added,
        bool_and(is_gone) as removed
    from compared
    group by span_seq, entity, entity_key
),

rows as (
    select span_seq, entity, entity_key, entity_label,
           case when added then 'added' else 'removed' end as change_type,
           null::varchar as field, null::varchar as old_value, null::varchar as new_value
    from per_fact
    where added or removed

    union all

    select cmp.span_seq, cmp.entity, cmp.entity_key, cmp.entity_label, 'changed', cmp.field,
           cmp.old_value, cmp.new_value
    from compared as cmp
    inner join per_fact as p using (span_seq, entity, entity_key)
    where not (p.added or p.removed) and cmp.old_value is distinct from cmp.new_value
)

select
    md5(concat_ws('|', c.content_sha256, {{ utc_text('c.valid_from') }}, r.entity, r.entity_key,
                  r.change_type, r.field)) as change_key,
    r.span_seq,
    c.valid_from as changed_at,
    c.recorded_at,
    c.previous_content_sha256 as from_content_sha256,
    c.content_sha256 as to_content_sha256,
    r.entity,
    r.entity_key,
    r.entity_label,
    r.change_type,
    r.field,
    r.old_value,
    r.new_value
from rows as r
inner join changes as c using (span_seq)
