{#- The page's text converted: rows whose text is present but whose value is null (an impossible
    date such as "31 Feb 2020", an expression the SQL does not know). -#}
{% test converts(model, column_name, to) %}
select {{ column_name }} as text_on_page, *
from {{ model }}
where {{ column_name }} is not null and {{ to }} is null
{% endtest %}
