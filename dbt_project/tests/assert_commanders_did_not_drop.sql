-- Protects against a layout change that silently loses commanders: the newest version lists at
-- least as many tenures as the version published before it (tenures are only ever added).
-- A rollback is an operator re-publishing an audited file on purpose: it is exempt, so a replay
-- through a rollback reproduces it.
with publications as (
    select content_sha256, publication_seq, source
    from {{ ref('int_publications') }}
),

latest as (
    select content_sha256, source from publications order by publication_seq desc limit 1
),

previous as (
    select content_sha256
    from publications
    where content_sha256 <> (select content_sha256 from latest)
    order by publication_seq desc
    limit 1
),

counts as (
    select
        (select count(*) from {{ ref('int_command_tenures') }}
         where content_sha256 = (select content_sha256 from latest)) as latest_tenures,
        (select count(*) from {{ ref('int_command_tenures') }}
         where content_sha256 = (select content_sha256 from previous)) as previous_tenures
)

select * from counts
where latest_tenures < previous_tenures
    and (select source from latest) is distinct from 'rollback'
