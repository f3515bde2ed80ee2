{#- The latest version of every key (documented in _macros.yml). -#}
{% macro dedupe(relation, key_columns, order_by='updated_at desc nulls last, _loaded_at desc') -%}
    {%- set keys = [key_columns] if key_columns is string else key_columns -%}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ keys | join(', ') }} order by {{ order_by }}) as version_rank
        from {{ relation }}
        where {% for key in keys %}{{ key }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    ) as versions
    where version_rank = 1
{%- endmacro %}
