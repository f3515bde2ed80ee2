-- One row per day from the first day with data to the as-of date (销售简报, domain.md §2 "the briefing"): the
-- day's new customers, contacts and opportunities, contract and payment amounts, the month-to-date amounts and
-- the month's targets (the sum of every rep's target for the month) with completion so far, and the same for
-- the fiscal quarter to date (domain.md §2 "fiscal calendar": the quarter's target sums its three months').
with days as (
    select
        date_day,
        month_start,
        fiscal_quarter_start
    from {{ ref('dim_date') }}
    where date_day <= {{ as_of_date() }}
),

daily_activity as (  -- every rep's day added up, and what nobody owns (int_rep_activity__daily)
    select
        date_day,
        sum(new_customers)     as new_customers,
        sum(new_opportunities) as new_opportunities,
        sum(contracts_signed)  as contracts_signed,
        sum(contract_amount)   as contract_amount,
        sum(payment_amount)    as payment_amount
    from {{ ref('int_rep_activity__daily') }}
    group by date_day
),

new_contacts as (  -- not deleted
    select created_date as date_day, count(*) as new_contacts
    from {{ ref('stg_crm__contacts') }}
    where not is_deleted
    group by created_date
),

month_targets as (  -- every rep's targets for the month, added up; null when no rep has one
    select
        month_start,
        sum(contract_amount_target) as month_contract_target,
        sum(payment_amount_target)  as month_payment_target
    from {{ ref('int_sales_targets__monthly') }}
    group by month_start
),

quarter_targets as (  -- every rep's contract-amount targets over the quarter's months; null when none has one
    select
        {{ fiscal_quarter_start('month_start') }} as fiscal_quarter_start,
        sum(contract_amount_target)               as quarter_contract_target
    from {{ ref('int_sales_targets__monthly') }}
    group by {{ fiscal_quarter_start('month_start') }}
),

daily as (
    select
        days.date_day,
        days.month_start,
        days.fiscal_quarter_start,
        coalesce(daily_activity.new_customers, 0)     as new_customers,
        coalesce(new_contacts.new_contacts, 0)        as new_contacts,
        coalesce(daily_activity.new_opportunities, 0) as new_opportunities,
        coalesce(daily_activity.contracts_signed, 0)  as contracts_signed,
        coalesce(daily_activity.contract_amount, 0)   as contract_amount,
        coalesce(daily_activity.payment_amount, 0)    as payment_amount
    from days
    left join daily_activity on days.date_day = daily_activity.date_day
    left join new_contacts on days.date_day = new_contacts.date_day
),

month_to_date as (
    select
        daily.*,
        sum(daily.contract_amount) over (
            partition by daily.month_start order by daily.date_day rows between unbounded preceding and current row
        ) as mtd_contract_amount,
        sum(daily.payment_amount) over (
            partition by daily.month_start order by daily.date_day rows between unbounded preceding and current row
        ) as mtd_payment_amount,
        sum(daily.contract_amount) over (
            partition by daily.fiscal_quarter_start order by daily.date_day rows between unbounded preceding and current row
        ) as qtd_contract_amount
    from daily
),

final as (
    select
        month_to_date.date_day,
        month_to_date.month_start,
        cast(month_to_date.new_customers as {{ dbt.type_bigint() }})     as new_customers,
        cast(month_to_date.new_contacts as {{ dbt.type_bigint() }})      as new_contacts,
        cast(month_to_date.new_opportunities as {{ dbt.type_bigint() }}) as new_opportunities,
        cast(month_to_date.contracts_signed as {{ dbt.type_bigint() }})  as contracts_signed,
        {{ to_money('month_to_date.contract_amount') }}                  as contract_amount,
        {{ to_money('month_to_date.payment_amount') }}                   as payment_amount,
        {{ to_money('month_to_date.mtd_contract_amount') }}              as mtd_contract_amount,
        {{ to_money('month_to_date.mtd_payment_amount') }}               as mtd_payment_amount,
        {{ to_money('month_targets.month_contract_target') }}            as month_contract_target,
        {{ to_money('month_targets.month_payment_target') }}             as month_payment_target,
        {{ ratio('month_to_date.mtd_contract_amount', 'month_targets.month_contract_target') }} as mtd_target_completion,
        {{ ratio('month_to_date.mtd_payment_amount', 'month_targets.month_payment_target') }}   as mtd_payment_target_completion,
        month_to_date.fiscal_quarter_start,
        {{ to_money('month_to_date.qtd_contract_amount') }}                 as qtd_contract_amount,
        {{ to_money('quarter_targets.quarter_contract_target') }}           as quarter_contract_target,
        {{ ratio('month_to_date.qtd_contract_amount', 'quarter_targets.quarter_contract_target') }} as qtd_target_completion
    from month_to_date
    left join month_targets
        on month_to_date.month_start = month_targets.month_start
    left join quarter_targets
        on month_to_date.fiscal_quarter_start = quarter_targets.fiscal_quarter_start
)

select * from final
