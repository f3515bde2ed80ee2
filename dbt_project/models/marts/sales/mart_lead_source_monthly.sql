-- One row per month and lead source (商机来源 / 客户来源): the opportunities created, won and lost from the
-- source, its win rate and won amount (domain.md §2 "lead source effectiveness"), the new customers won from
-- the channel, the marketing spend on it and the customer acquisition cost (domain.md §2 "CAC").
-- A missing source is reported as 'unknown'.
with opportunities as (
    select
        coalesce(source, 'unknown') as source,
        created_date
    from {{ ref('fct_opportunities') }}
),

created_by_month as (
    select
        {{ to_month_start('created_date') }} as month_start,
        source,
        count(*)                             as opportunities_created
    from opportunities
    where created_date is not null
    group by {{ to_month_start('created_date') }}, source
),

closed_by_month as (  -- won, lost and the win rate by closed_date, as defined once in int_opportunities__won_lost_monthly
    select
        month_start,
        source,
        opportunities_won,
        opportunities_lost,
        won_amount,
        win_rate
    from {{ ref('int_opportunities__won_lost_monthly') }}
    where breakdown = 'source'
),

new_customers_by_month as (  -- customers whose first contract was signed in the month, by their channel
    select
        {{ to_month_start('first_contract_date') }} as month_start,
        coalesce(source, 'unknown')                 as source,
        count(*)                                    as new_customers
    from {{ ref('dim_customers') }}
    where first_contract_date is not null
    group by {{ to_month_start('first_contract_date') }}, coalesce(source, 'unknown')
),

spend_by_month as (
    select
        {{ to_month_start('spend_month') }} as month_start,
        coalesce(channel, 'unknown')        as source,
        sum(amount)                         as marketing_spend
    from {{ ref('stg_crm__marketing_spend') }}
    where spend_month is not null
    group by {{ to_month_start('spend_month') }}, coalesce(channel, 'unknown')
),

source_months as (
    select month_start, source from created_by_month
    union
    select month_start, source from closed_by_month
    union
    select month_start, source from new_customers_by_month
    union
    select month_start, source from spend_by_month
),

final as (
    select
        source_months.month_start,
        source_months.source,
        cast(coalesce(created_by_month.opportunities_created, 0) as {{ dbt.type_bigint() }}) as opportunities_created,
        cast(coalesce(closed_by_month.opportunities_won, 0) as {{ dbt.type_bigint() }})      as opportunities_won,
        cast(coalesce(closed_by_month.opportunities_lost, 0) as {{ dbt.type_bigint() }})     as opportunities_lost,
        closed_by_month.win_rate,
        {{ to_money('coalesce(closed_by_month.won_amount, 0)') }}                            as won_amount,
        cast(coalesce(new_customers_by_month.new_customers, 0) as {{ dbt.type_bigint() }})   as new_customers,
        {{ to_money('spend_by_month.marketing_spend') }}                                     as marketing_spend,
        {{ ratio('spend_by_month.marketing_spend', 'new_customers_by_month.new_customers') }} as cac
    from source_months
    left join created_by_month
        on source_months.month_start = created_by_month.month_start
       and source_months.source = created_by_month.source
    left join closed_by_month
        on source_months.month_start = closed_by_month.month_start
       and source_months.source = closed_by_month.source
    left join new_customers_by_month
        on source_months.month_start = new_customers_by_month.month_start
       and source_months.source = new_customers_by_month.source
    left join spend_by_month
        on source_months.month_start = spend_by_month.month_start
       and source_months.source = spend_by_month.source
)

select * from final
