{#- A row-count band: a page whose layout changed yields far fewer (or far more) rows. -#}
{% test row_count_between(model, min_rows, max_rows) %}
select count(*) as row_count
from {{ model }}
having count(*) < {{ min_rows }} or count(*) > {{ max_rows }}
{% endtest %}
