-- One row per month and product (产品分析, domain.md §2 "Products"): quantity and amount sold, from the lines
-- of the opportunities won in the month (closed_date), amounts in the reporting currency at the close date.
-- Group by category for the category view.
with won_lines as (
    select
        {{ to_month_start('closed_date') }} as month_start,
        opportunity_id,
        product_id,
        category,
        quantity,
        line_amount
    from {{ ref('fct_opportunity_lines') }}
    where status = 'won'
      and closed_date is not null
      and product_id is not null
),

final as (
    select
        month_start,
        product_id,
        category,
        cast(sum(quantity) as {{ dbt.type_bigint() }})                      as quantity,
        {{ to_money('sum(line_amount)') }}                                   as amount,
        cast(count(distinct opportunity_id) as {{ dbt.type_bigint() }})     as won_opportunities
    from won_lines
    group by month_start, product_id, category
)

select * from final
