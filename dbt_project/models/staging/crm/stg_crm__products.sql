-- One row per product, latest version.
with source as (
    select * from {{ crm_source('products') }}
),

final as (
    select
        cast(product_id as bigint)                       as product_id,
        cast(trim(name) as {{ dbt.type_string() }})      as product_name,
        cast(trim(category) as {{ dbt.type_string() }})  as category,
        cast(list_price as decimal(18,2))                as list_price,
        cast(is_active as boolean)                       as is_active,
        cast(updated_at as timestamp)                    as updated_at,
        cast(_loaded_at as timestamp)                    as loaded_at
    from source
)

select * from final
