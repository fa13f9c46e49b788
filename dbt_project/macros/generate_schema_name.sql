{#- Schemas are exactly raw / staging / marts / snapshots, not <target>_<custom>.
    KFOR_SCHEMA_PREFIX (default empty) is put before each: a Postgres warehouse builds into
    build_raw, build_staging, ... and publishes them by renaming the schemas
    (orchestration/core/pg_warehouse.py). The raw source's schema (models/staging/__sources.yml)
    carries the same prefix, so a build reads its own copy of the raw tables. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ env_var('KFOR_SCHEMA_PREFIX', '') ~ (custom_schema_name | trim if custom_schema_name else target.schema) }}
{%- endmacro %}
