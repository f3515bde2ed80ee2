-- Salesforce's products (product_2) as the contract's products: category = family. Salesforce keeps list prices in
-- price books, not on the product: list_price is null. A deleted product is kept and not active (the contract's
-- products have no deleted flag, and the lines that sold it keep their product and category).
with products as (
    select * from {{ source('salesforce', 'product_2') }}
),

final as (
    select
        {{ source_id_key('id') }}                                             as product_id,
        cast(name as {{ dbt.type_string() }})                                 as name,
        cast(nullif(trim(family), '') as {{ dbt.type_string() }})             as category,
        cast(null as decimal(18,2))                                           as list_price,
        coalesce(is_active, false) and not {{ salesforce_is_deleted() }}      as is_active,
        cast({{ salesforce_synced_at() }} as timestamp)                                   as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                             as _load_id,
        cast(_loaded_at as timestamp)                                         as _loaded_at
    from products
)

select * from final
