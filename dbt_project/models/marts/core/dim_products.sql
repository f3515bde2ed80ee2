-- One row per product.
with products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        products.product_id,
        {{ source_id_column('product', 'products.product_id', 'product_ids') }} as product_source_id,
        products.product_name,
        products.category,
        products.list_price,
        products.is_active
    from products
    {{ source_id_join('product', 'products.product_id', 'product_ids') }}
)

select * from final
