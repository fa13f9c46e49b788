{#- Fails on every row whose value is not above another column's (a range's high end over its low
    end, rule T8); rows where either is null pass. -#}
{% test greater_than_column(model, column_name, other_column) %}
select * from {{ model }}
where {{ column_name }} <= {{ other_column }}
{% endtest %}
