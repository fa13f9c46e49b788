-- What this file is: one row. Every time is an instant (timestamp with time zone, rule V6):
-- built_at is the build's clock, whatever the time zone of the process that ran dbt.
with current_publication as (
    select *
    from {{ ref('int_publications') }}
    where content_sha256 = {{ current_version() }}
    order by publication_seq desc
    limit 1
)

select
    now() as built_at,
    v.content_sha256,
    v.page_last_updated,
    v.page_last_updated_utc,
    v.title as page_title,
    p.published_at,
    p.url as source_url,
    p.source,
    p.etag,
    p.last_modified,
    p.body_sha256,
    v.parser_version,
    (select code_version from {{ source('raw', 'build_info') }}) as code_version,
    '{{ dbt_version }}' as dbt_version,
    {{ duckdb_version() }} as duckdb_version,
    {{ engine_version() }} as engine_version
from {{ ref('int_page_versions') }} as v
inner join current_publication as p using (content_sha256)
