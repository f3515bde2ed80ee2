{#- Fails on every row with an original amount but no amount in the reporting currency: the rate to convert it
    was missing (domain.md §3: a missing rate gives null, never a silent rate of 1). -#}
{% test has_reporting_amount(model, column_name, original_column) %}
select *
from {{ model }}
where {{ original_column }} is not null
  and {{ column_name }} is null
{% endtest %}
