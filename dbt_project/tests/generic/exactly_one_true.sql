{#- Exactly one row has the flag set (one current commander, one current KFOR figure). -#}
{% test exactly_one_true(model, column_name) %}
select count(*) filter (where {{ column_name }}) as true_rows
from {{ model }}
having count(*) filter (where {{ column_name }}) <> 1
{% endtest %}
