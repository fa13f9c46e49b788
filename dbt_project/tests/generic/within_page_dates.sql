{#- Content dates lie between 1999-01-01 and the page's own date. An end date may pass the page
    date only at season or year precision ("autumn 2023" ends 30 Nov on a page of 20 Nov). -#}
{% test within_page_dates(model, column_name, precision_column=none) %}
with page as (
    select page_date from {{ ref('int_page_versions') }} where is_current
)
select m.*
from {{ model }} as m, page
where {{ column_name }} < date '1999-01-01'
   or (
        {{ column_name }} > page.page_date
        {% if precision_column %}
        and {{ precision_column }} not in ('season', 'year')
        {% endif %}
   )
{% endtest %}
