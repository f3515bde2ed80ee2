-- One row per dimension ('rep', 'region', 'product') and value: the sales cycle (商机周期 / 成交周期,
-- domain.md §2) of the won opportunities, i.e. days from created_at to closed_at (fct_opportunities
-- .days_to_close), as mean and median, by the opportunity's owner, its customer's region, and each product on
-- its lines (an opportunity with two products counts once for each). A missing owner or region is 'unknown';
-- an opportunity without lines counts for no product. All time: every won opportunity up to now.
with won_opportunities as (
    select
        opportunity_id,
        owner_user_id,
        customer_region,
        days_to_close
    from {{ ref('fct_opportunities') }}
    where is_won
      and days_to_close is not null
),

products_won as (  -- one row per won opportunity and product on its lines
    select distinct
        won_opportunities.opportunity_id,
        won_opportunities.days_to_close,
        lines.product_id
    from won_opportunities
    inner join {{ ref('fct_opportunity_lines') }} as lines
        on won_opportunities.opportunity_id = lines.opportunity_id
    where lines.product_id is not null
),

by_dimension as (
    select
        'rep'                                                                          as dimension,
        coalesce(cast(owner_user_id as {{ dbt.type_string() }}), 'unknown')            as dimension_value,
        days_to_close
    from won_opportunities

    union all

    select
        'region'                                                                       as dimension,
        coalesce(customer_region, 'unknown')                                           as dimension_value,
        days_to_close
    from won_opportunities

    union all

    select
        'product'                                                                      as dimension,
        cast(product_id as {{ dbt.type_string() }})                                    as dimension_value,
        days_to_close
    from products_won
),

final as (
    select
        cast(dimension as {{ dbt.type_string() }})                 as dimension,
        dimension_value,
        cast(count(*) as {{ dbt.type_bigint() }})                  as won_opportunities,
        cast(avg(days_to_close) as {{ dbt.type_numeric() }})       as avg_days,
        cast({{ median('days_to_close') }} as {{ dbt.type_numeric() }}) as median_days
    from by_dimension
    group by dimension, dimension_value
)

select * from final
