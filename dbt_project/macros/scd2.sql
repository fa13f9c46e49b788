{#- SCD2 history of one intermediate model across published versions, computed from the raw
    batches and the fetch log (int_publications), so a replay reproduces it exactly; dbt's
    `snapshot` command stamps wall-clock time and cannot.

    A row is valid from the publication that first showed it (with these tracked values) until the
    publication that dropped or changed it (valid_to; null while the newest version still shows
    it). A fact that disappears from the page is closed, not deleted, and returns as a new row if
    it reappears. Rejected versions never reach int_publications, so they never enter history.

    relation: an int_* model with content_sha256 and the key; tracked: the columns whose change
    makes a new row (provenance such as source text is carried from the first version, not
    tracked). -#}
{% macro scd2(relation, key, tracked, carried=[]) %}
with publications as (
    select publication_seq, content_sha256, published_at
    from {{ ref('int_publications') }}
),

shown as (
    select
        p.publication_seq,
        r.{{ key }},
        md5(concat_ws('|', {% for c in tracked %}coalesce(r.{{ c }}::varchar, '<null>'){{ ", " if not loop.last }}{% endfor %}))
            as row_hash
    from publications as p
    inner join {{ relation }} as r using (content_sha256)
),

marked as (
    select
        *,
        case
            when lag(publication_seq) over by_key = publication_seq - 1
                and lag(row_hash) over by_key = row_hash
                then 0
            else 1
        end as starts_span
    from shown
    window by_key as (partition by {{ key }} order by publication_seq)
),

spans as (
    select
        {{ key }},
        row_hash,
        sum(starts_span) over (partition by {{ key }} order by publication_seq
                               rows unbounded preceding) as span,
        publication_seq
    from marked
),

bounds as (
    select {{ key }}, span, min(publication_seq) as first_seq, max(publication_seq) as last_seq
    from spans
    group by all
)

select
    md5(b.{{ key }} || '|' || b.first_seq) as history_key,
    b.{{ key }},
    {% for c in tracked + carried %}r.{{ c }},
    {% endfor %}opened.published_at as valid_from,
    closed.published_at as valid_to,
    closed.published_at is null as is_current_version,
    opened.content_sha256 as valid_from_content_sha256,
    closed.content_sha256 as valid_to_content_sha256
from bounds as b
inner join publications as opened on opened.publication_seq = b.first_seq
left join publications as closed on closed.publication_seq = b.last_seq + 1
inner join {{ relation }} as r
    on r.content_sha256 = opened.content_sha256 and r.{{ key }} = b.{{ key }}
{% endmacro %}
