{#- No row ends before it starts. -#}
{% test not_before(model, column_name, start_column) %}
select * from {{ model }}
where {{ column_name }} < {{ start_column }}
{% endtest %}
