{#- Every field of every fact of a model, one row per (version, entity, key, field) with the value
    as text (nulls kept): the long form the change log compares version against version. -#}
{% macro facts_long(relation, entity, key, label, fields) %}
    select content_sha256, '{{ entity }}' as entity, entity_key, entity_label, field, value
    from (
        select
            content_sha256,
            {{ key }} as entity_key,
            {{ label }} as entity_label,
            {% for f in fields %}{{ f }}::varchar as {{ f }}{{ ", " if not loop.last }}{% endfor %}
        from {{ relation }}
    ) {{ unpivot_including_nulls(fields, 'field', 'value') }}
{% endmacro %}
