{#- A raw table with the operator's corrections applied (seeds/corrections.csv): a row of the
    seed replaces one field of one fact of one page version, and only while the page still says
    `page_value` there, so a correction never silently overrides something else. Applied before
    staging casts the text, so a typo such as "31 Feb 2020" can be corrected. -#}
{% macro corrected(source_relation, fact, fields) %}
    {%- set replaced = {} -%}
    {%- for f in fields -%}
        {%- do replaced.update({f: corrected_field(fact, f)}) -%}
    {%- endfor %}
    select {{ star_replace(source_relation, 's', replaced) }}
    from {{ source_relation }} as s
{% endmacro %}

{#- Field f of the raw row s, or the seed's corrected value for it. -#}
{% macro corrected_field(fact, f) -%}
    coalesce((
                select c.corrected_value
                from {{ ref('corrections') }} as c
                where c.content_sha256 = s.content_sha256
                  and c.fact = '{{ fact }}'
                  and c.ordinal = s.ordinal
                  and c.field = '{{ f }}'
                  and c.page_value is not distinct from s.{{ f }}
            ), s.{{ f }})
{%- endmacro %}
