-- One row per line (opportunity × product) of an opportunity that is not deleted, converted to the reporting
-- currency at its opportunity's rate (the close date once closed, the as-of date while open).
with lines as (
    select * from {{ ref('stg_crm__opportunity_products') }}
),

opportunities as (  -- not deleted; lines of a deleted or unknown opportunity count nowhere
    select * from {{ ref('fct_opportunities') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

final as (
    select
        lines.opportunity_id,
        lines.product_id,
        products.category,
        lines.quantity,
        lines.unit_price,
        lines.discount_pct,
        {{ to_reporting_currency(
            line_amount('lines.quantity', 'lines.unit_price', 'lines.discount_pct'),
            'opportunities.rate_to_reporting'
        ) }}                              as line_amount,
        lines.line_amount_original,
        opportunities.currency,
        opportunities.status,
        opportunities.closed_date
    from lines
    inner join opportunities
        on lines.opportunity_id = opportunities.opportunity_id
    left join products
        on lines.product_id = products.product_id
)

select * from final
