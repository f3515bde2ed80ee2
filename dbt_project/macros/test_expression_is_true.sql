{#- Generic test: fails on every row where the SQL expression is false. Attach it to a model or to a
    column; either way the expression names its columns itself. A null result passes, so a null rate is
    not a failure. Same name and argument as dbt_utils.expression_is_true, not installable offline. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
