{#- Marts describe the newest published version; this is its version key. -#}
{% macro current_version() -%}
    (select content_sha256 from {{ ref('int_page_versions') }} where is_current)
{%- endmacro %}
