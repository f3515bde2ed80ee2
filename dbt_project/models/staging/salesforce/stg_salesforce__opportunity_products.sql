-- Salesforce's product lines (opportunity_line_item) as the contract's opportunity_products: one row per opportunity
-- and product (the contract's key). quantity, unit_price and discount_pct (discount, a percentage; null = 0) as
-- Salesforce holds them. Several lines of one product on one opportunity are merged: when they share unit price and
-- discount, the quantities are summed; otherwise the quantity is summed and unit_price is their net amount ÷ that
-- quantity (rounded to the cent) with discount 0. A fractional total quantity (Salesforce allows 1.5) is booked as
-- one unit at the lines' net amount, so the amount sold stays Salesforce's. Deleted lines are left out.
with lines as (
    select * from {{ source('salesforce', 'opportunity_line_item') }}
    where not {{ salesforce_is_deleted() }}
),

merged as (
    select
        opportunity_id,
        product_2_id,
        sum(quantity)                                                       as total_quantity,
        sum(
            cast(quantity * unit_price as decimal(18,4))
            * cast(100 - coalesce(discount, 0) as decimal(9,4)) * 0.01
        )                                                                   as net_amount,
        min(unit_price)                                                     as min_unit_price,
        max(unit_price)                                                     as max_unit_price,
        min(coalesce(discount, 0))                                          as min_discount,
        max(coalesce(discount, 0))                                          as max_discount,
        max({{ salesforce_synced_at() }})                                             as _fivetran_synced,
        max(_load_id)                                                       as _load_id,
        max(_loaded_at)                                                     as _loaded_at
    from lines
    group by opportunity_id, product_2_id
),

classified as (
    select
        merged.*,
        merged.total_quantity = floor(merged.total_quantity)                              as is_whole,
        merged.min_unit_price = merged.max_unit_price and merged.min_discount = merged.max_discount     as shares_terms
    from merged
),

final as (
    select
        {{ source_id_key('opportunity_id') }}                               as opportunity_id,
        {{ source_id_key('product_2_id') }}                                 as product_id,
        cast(case when is_whole then total_quantity else 1 end as bigint)   as quantity,
        cast(case
            when is_whole and shares_terms then min_unit_price
            when is_whole and total_quantity <> 0 then round(net_amount / total_quantity, 2)
            else round(net_amount, 2)
        end as decimal(18,2))                                               as unit_price,
        cast(case when is_whole and shares_terms then min_discount else 0 end as decimal(7,4)) as discount_pct,
        cast(_fivetran_synced as timestamp)                                 as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                           as _load_id,
        cast(_loaded_at as timestamp)                                       as _loaded_at
    from classified
)

select * from final
