-- One row per product.
with products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        product_id,
        product_name,
        category,
        list_price,
        is_active
    from products
)

select * from final
