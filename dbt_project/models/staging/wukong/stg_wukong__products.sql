-- 悟空CRM's products (wk_crm_product) with their category's name as the contract's products. Active when on sale
-- (status 1); a deleted product (status 3) is not active.
with products as (
    select * from {{ source('wukong', 'wk_crm_product') }}
),

categories as (
    select * from {{ source('wukong', 'wk_crm_product_category') }}
),

final as (
    select
        cast(products.product_id as bigint)                   as product_id,
        cast(products.name as {{ dbt.type_string() }})            as name,
        cast(categories.name as {{ dbt.type_string() }})          as category,
        cast(products.price as decimal(18,2))                 as list_price,
        coalesce(products.status = 1, false)                  as is_active,
        {{ wukong_changed_at('products') }}                   as updated_at,
        cast(products._load_id as {{ dbt.type_string() }})        as _load_id,
        greatest(products._loaded_at, categories._loaded_at)  as _loaded_at
    from products
    left join categories
        on products.category_id = categories.category_id
)

select * from final
