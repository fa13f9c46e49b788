{#- SCD2 history of one intermediate model across the page's versions, computed from the raw
    batches and the fetch log (int_version_spans), so a replay reproduces it exactly; dbt's
    `snapshot` command stamps wall-clock time and cannot.

    Valid time (rules V2, V3): a row is valid from the span of sightings that first showed it (with
    these tracked values) until the span that dropped or changed it (valid_to; null while the
    newest span still shows it). Recorded time: recorded_at is when the warehouse first learned the
    opening span (its first fetch or import), closed_recorded_at when it learned the closing one.
    A fact that disappears from the page is closed, not deleted, and returns as a new row if it
    reappears. Rejected versions are never sighted, so they never enter history.

    relation: an int_* model with content_sha256 and the key; tracked: the columns whose change
    makes a new row (provenance such as source text is carried from the first version, not
    tracked); aliases: {name: column} for the marts' names of a tracked or carried column, so a
    history reads like the mart it keeps (is_in_office beside is_current). -#}
{% macro scd2(relation, key, tracked, carried=[], aliases={}) %}
with spans_of_page as (
    select span_seq, content_sha256, valid_from, recorded_at
    from {{ ref('int_version_spans') }}
),

shown as (
    select
        p.span_seq,
        r.{{ key }},
        md5(concat_ws('|', {% for c in tracked %}coalesce(r.{{ c }}::varchar, '<null>'){{ ", " if not loop.last }}{% endfor %}))
            as row_hash
    from spans_of_page as p
    inner join {{ relation }} as r using (content_sha256)
),

marked as (
    select
        *,
        case
            when lag(span_seq) over by_key = span_seq - 1
                and lag(row_hash) over by_key = row_hash
                then 0
            else 1
        end as starts_span
    from shown
    window by_key as (partition by {{ key }} order by span_seq)
),

spans as (
    select
        {{ key }},
        row_hash,
        sum(starts_span) over (partition by {{ key }} order by span_seq
                               rows unbounded preceding) as span,
        span_seq
    from marked
),

bounds as (
    select {{ key }}, span, min(span_seq) as first_seq, max(span_seq) as last_seq
    from spans
    group by {{ key }}, span
)

select
    -- keyed by the opening span's version and valid time, not its position: an older capture
    -- imported later renumbers spans but keeps every key
    md5(concat_ws('|', b.{{ key }}, opened.content_sha256, {{ utc_text('opened.valid_from') }}))
        as history_key,
    b.{{ key }},
    {% for c in tracked + carried %}r.{{ c }},
    {% endfor %}{% for name, c in aliases.items() %}r.{{ c }} as {{ name }},
    {% endfor %}opened.valid_from,
    closed.valid_from as valid_to,
    opened.recorded_at,
    closed.recorded_at as closed_recorded_at,
    closed.valid_from is null as is_in_newest_version,
    closed.valid_from is null as is_current_version,  -- its old name, kept
    opened.content_sha256 as valid_from_content_sha256,
    closed.content_sha256 as valid_to_content_sha256
from bounds as b
inner join spans_of_page as opened on opened.span_seq = b.first_seq
left join spans_of_page as closed on closed.span_seq = b.last_seq + 1
inner join {{ relation }} as r
    on r.content_sha256 = opened.content_sha256 and r.{{ key }} = b.{{ key }}
{% endmacro %}
