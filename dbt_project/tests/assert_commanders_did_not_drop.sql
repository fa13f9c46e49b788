-- Protects against a layout change that silently loses commanders: each span of the page's
-- history (in valid-time order, rule V3) lists at least as many tenures as the span before it
-- (tenures are only ever added). Every neighbouring pair is checked, so an imported capture is
-- compared with its neighbours in valid time; a version without a commanders list is exempt.
-- A rollback is an operator re-publishing an audited file on purpose: it is exempt, so a replay
-- through a rollback reproduces it.
with spans as (
    select
        s.span_seq,
        s.opened_by,
        (select count(*) from {{ ref('int_command_tenures') }} as t
         where t.content_sha256 = s.content_sha256) as tenures
    from {{ ref('int_version_spans') }} as s
),

pairs as (
    select
        span_seq,
        opened_by,
        tenures,
        lag(tenures) over (order by span_seq) as previous_tenures
    from spans
)

select * from pairs
where tenures < previous_tenures
    and tenures > 0
    and opened_by is distinct from 'rollback'
