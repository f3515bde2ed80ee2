-- 悟空CRM's product lines (wk_crm_business_product) as the contract's opportunity_products: one row per opportunity
-- and product (the contract's key). unit_price is the line's sales_price, already after its discount, so
-- discount_pct is 0. Lines of the same product on one opportunity are merged: quantity summed, unit_price their
-- amount divided by it (rounded to the cent). A fractional quantity (悟空CRM allows 1.5) is booked as one unit at
-- the line's amount, so the amount sold stays 悟空CRM's. The lines have no time: updated_at is the opportunity's.
with lines as (
    select * from {{ source('wukong', 'wk_crm_business_product') }}
),

businesses as (
    select * from {{ source('wukong', 'wk_crm_business') }}
),

merged as (
    select
        business_id,
        product_id,
        sum(num)                 as total_quantity,
        sum(num * sales_price)   as total_amount,
        max(_load_id)            as _load_id,
        max(_loaded_at)          as _loaded_at
    from lines
    group by business_id, product_id
),

final as (
    select
        cast(merged.business_id as bigint)                                     as opportunity_id,
        cast(merged.product_id as bigint)                                      as product_id,
        cast(case
            when merged.total_quantity = floor(merged.total_quantity) then merged.total_quantity
            else 1
        end as bigint)                                                          as quantity,
        cast(case
            when merged.total_quantity = floor(merged.total_quantity) and merged.total_quantity <> 0
                then round(merged.total_amount / merged.total_quantity, 2)
            else merged.total_amount
        end as decimal(18,2))                                                   as unit_price,
        cast(0 as decimal(7,4))                                                 as discount_pct,
        coalesce({{ wukong_changed_at('businesses') }}, merged._loaded_at)     as updated_at,
        cast(merged._load_id as {{ dbt.type_string() }})                            as _load_id,
        greatest(merged._loaded_at, businesses._loaded_at)                     as _loaded_at
    from merged
    left join businesses
        on merged.business_id = businesses.business_id
)

select * from final
