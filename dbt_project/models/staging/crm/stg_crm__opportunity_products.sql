-- One row per opportunity line (opportunity × product), latest version, in the opportunity's currency.
-- Converting needs the opportunity (its currency and close date): fct_opportunity_lines does it.
with source as (
    select * from {{ crm_source('opportunity_products') }}
),

typed as (
    select
        cast(opportunity_id as bigint)     as opportunity_id,
        cast(product_id as bigint)         as product_id,
        cast(quantity as bigint)           as quantity,
        cast(unit_price as decimal(18,2))  as unit_price,
        cast(discount_pct as decimal(7,4)) as discount_pct,
        cast(updated_at as timestamp)      as updated_at,
        cast(_loaded_at as timestamp)      as loaded_at
    from source
),

final as (
    select
        opportunity_id,
        product_id,
        quantity,
        unit_price,
        discount_pct,
        {{ to_money(line_amount('quantity', 'unit_price', 'discount_pct')) }} as line_amount_original,
        updated_at,
        loaded_at
    from typed
)

select * from final
