-- One row per profile dimension ('city', 'industry', 'level', 'source') and value (客户画像, domain.md §2
-- "distribution of customers"): how many not-deleted customers have that value, and how many of them are in
-- the public pool (公海, no owner). A missing value is 'unknown'.
with customers as (
    select * from {{ ref('dim_customers') }}
),

by_dimension as (
    select 'city' as dimension, coalesce(city, 'unknown') as dimension_value, is_public_pool from customers
    union all
    select 'industry' as dimension, coalesce(industry, 'unknown') as dimension_value, is_public_pool from customers
    union all
    select 'level' as dimension, coalesce(level, 'unknown') as dimension_value, is_public_pool from customers
    union all
    select 'source' as dimension, coalesce(source, 'unknown') as dimension_value, is_public_pool from customers
),

final as (
    select
        cast(dimension as {{ dbt.type_string() }})                                  as dimension,
        cast(dimension_value as {{ dbt.type_string() }})                            as dimension_value,
        cast(count(*) as {{ dbt.type_bigint() }})                                   as customers,
        cast(count(case when is_public_pool then 1 end) as {{ dbt.type_bigint() }}) as public_pool_customers,
        {{ ratio('count(*)', 'sum(count(*)) over (partition by dimension)') }}      as share_of_customers
    from by_dimension
    group by dimension, dimension_value
)

select * from final
