-- One row per rep and month in which the rep has a target or any activity counted here: new customers,
-- follow-ups, opportunities created and won, contracts signed, payments received, the month's targets,
-- target completion and the rep's rank among the month's reps. Definitions: domain.md §2 "Reps and
-- targets" (per rep and month, target completion, rankings).
with rep_days as (  -- what each rep did each day (who is credited for what: int_rep_activity__daily)
    select *
    from {{ ref('int_rep_activity__daily') }}
    where user_id is not null
),

rep_month_activity as (
    select
        user_id,
        {{ to_month_start('date_day') }} as month_start,
        sum(new_customers)               as new_customers,
        sum(follow_ups)                  as follow_ups,
        sum(new_opportunities)           as new_opportunities,
        sum(won_opportunities)           as won_opportunities,
        sum(contracts_signed)            as contracts_signed,
        sum(contract_amount)             as contract_amount,
        sum(payment_amount)              as payment_amount
    from rep_days
    group by user_id, {{ to_month_start('date_day') }}
),

targets as (
    select
        user_id,
        month_start,
        contract_amount_target,
        payment_amount_target,
        new_customer_target
    from {{ ref('int_sales_targets__monthly') }}
),

rep_months as (  -- every rep and month with a target or any activity
    select user_id, month_start from rep_month_activity
    union
    select user_id, month_start from targets
),

rep_month_actuals as (
    select
        rep_months.month_start,
        rep_months.user_id,
        coalesce(rep_month_activity.new_customers, 0)     as new_customers,
        coalesce(rep_month_activity.follow_ups, 0)        as follow_ups,
        coalesce(rep_month_activity.new_opportunities, 0) as new_opportunities,
        coalesce(rep_month_activity.won_opportunities, 0) as won_opportunities,
        coalesce(rep_month_activity.contracts_signed, 0)  as contracts_signed,
        coalesce(rep_month_activity.contract_amount, 0)   as contract_amount,
        coalesce(rep_month_activity.payment_amount, 0)    as payment_amount,
        targets.contract_amount_target,
        targets.payment_amount_target,
        targets.new_customer_target
    from rep_months
    left join rep_month_activity
        on rep_months.user_id = rep_month_activity.user_id
       and rep_months.month_start = rep_month_activity.month_start
    left join targets
        on rep_months.user_id = targets.user_id and rep_months.month_start = targets.month_start
),

final as (
    select
        month_start,
        user_id,
        cast(new_customers as {{ dbt.type_bigint() }})           as new_customers,
        cast(follow_ups as {{ dbt.type_bigint() }})              as follow_ups,
        cast(new_opportunities as {{ dbt.type_bigint() }})       as new_opportunities,
        cast(won_opportunities as {{ dbt.type_bigint() }})       as won_opportunities,
        cast(contracts_signed as {{ dbt.type_bigint() }})        as contracts_signed,
        {{ to_money('contract_amount') }}                        as contract_amount,
        {{ to_money('payment_amount') }}                         as payment_amount,
        {{ to_money('contract_amount_target') }}                 as contract_amount_target,
        {{ to_money('payment_amount_target') }}                  as payment_amount_target,
        cast(new_customer_target as {{ dbt.type_bigint() }})     as new_customer_target,
        {{ ratio('contract_amount', 'contract_amount_target') }} as contract_target_completion,
        {{ ratio('payment_amount', 'payment_amount_target') }}   as payment_target_completion,
        {{ ratio('new_customers', 'new_customer_target') }}      as new_customer_target_completion,
        cast(rank() over (partition by month_start order by contract_amount desc) as {{ dbt.type_bigint() }})
            as rank_contract_amount,
        cast(rank() over (partition by month_start order by payment_amount desc) as {{ dbt.type_bigint() }})
            as rank_payment_amount,
        cast(rank() over (partition by month_start order by contracts_signed desc) as {{ dbt.type_bigint() }})
            as rank_contracts_signed,
        cast(rank() over (partition by month_start order by new_customers desc) as {{ dbt.type_bigint() }})
            as rank_new_customers
    from rep_month_actuals
)

select * from final
