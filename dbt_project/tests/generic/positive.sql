{#- Fails on every row whose value is zero or negative (troop counts, tenure lengths). -#}
{% test positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
