-- One row per rep and month in which the rep has a target or any activity counted here: new customers,
-- follow-ups, opportunities created and won, contracts signed, payments received, the month's targets,
-- target completion and the rep's rank among the month's reps. Definitions: domain.md §2 "Reps and
-- targets" (per rep and month, target completion, rankings).
with new_customers as (  -- customers created in the month and (currently) owned by the rep
    select
        owner_user_id                        as user_id,
        {{ to_month_start('created_date') }} as month_start,
        count(*)                             as new_customers
    from {{ ref('dim_customers') }}
    where owner_user_id is not null
      and created_date is not null
    group by owner_user_id, {{ to_month_start('created_date') }}
),

follow_ups as (  -- activities by the rep
    select
        user_id,
        {{ to_month_start('occurred_date') }} as month_start,
        count(*)                              as follow_ups
    from {{ ref('fct_activities') }}
    where user_id is not null
      and occurred_date is not null
    group by user_id, {{ to_month_start('occurred_date') }}
),

opportunities as (
    select
        owner_user_id as user_id,
        created_date,
        closed_date,
        is_won
    from {{ ref('fct_opportunities') }}
    where owner_user_id is not null
),

created_opportunities as (
    select
        user_id,
        {{ to_month_start('created_date') }} as month_start,
        count(*)                             as new_opportunities
    from opportunities
    where created_date is not null
    group by user_id, {{ to_month_start('created_date') }}
),

won_opportunities as (  -- closed won in the month
    select
        user_id,
        {{ to_month_start('closed_date') }} as month_start,
        count(*)                            as won_opportunities
    from opportunities
    where is_won
      and closed_date is not null
    group by user_id, {{ to_month_start('closed_date') }}
),

contracts_signed as (  -- by the contract's owner, in the month of signed_date
    select
        owner_user_id                       as user_id,
        {{ to_month_start('signed_date') }} as month_start,
        count(*)                            as contracts_signed,
        sum(amount)                         as contract_amount
    from {{ ref('fct_contracts') }}
    where owner_user_id is not null
      and signed_date is not null
    group by owner_user_id, {{ to_month_start('signed_date') }}
),

payments_received as (  -- credited to the owner of the paid contract, in the month of paid_date
    select
        owner_user_id                     as user_id,
        {{ to_month_start('paid_date') }} as month_start,
        sum(amount)                       as payment_amount
    from {{ ref('fct_payments') }}
    where owner_user_id is not null
      and paid_date is not null
    group by owner_user_id, {{ to_month_start('paid_date') }}
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
    select user_id, month_start from new_customers
    union
    select user_id, month_start from follow_ups
    union
    select user_id, month_start from created_opportunities
    union
    select user_id, month_start from won_opportunities
    union
    select user_id, month_start from contracts_signed
    union
    select user_id, month_start from payments_received
    union
    select user_id, month_start from targets
),

rep_month_actuals as (
    select
        rep_months.month_start,
        rep_months.user_id,
        coalesce(new_customers.new_customers, 0)            as new_customers,
        coalesce(follow_ups.follow_ups, 0)                  as follow_ups,
        coalesce(created_opportunities.new_opportunities, 0) as new_opportunities,
        coalesce(won_opportunities.won_opportunities, 0)    as won_opportunities,
        coalesce(contracts_signed.contracts_signed, 0)      as contracts_signed,
        coalesce(contracts_signed.contract_amount, 0)       as contract_amount,
        coalesce(payments_received.payment_amount, 0)       as payment_amount,
        targets.contract_amount_target,
        targets.payment_amount_target,
        targets.new_customer_target
    from rep_months
    left join new_customers
        on new_customers.user_id = rep_months.user_id and new_customers.month_start = rep_months.month_start
    left join follow_ups
        on follow_ups.user_id = rep_months.user_id and follow_ups.month_start = rep_months.month_start
    left join created_opportunities
        on created_opportunities.user_id = rep_months.user_id
       and created_opportunities.month_start = rep_months.month_start
    left join won_opportunities
        on won_opportunities.user_id = rep_months.user_id and won_opportunities.month_start = rep_months.month_start
    left join contracts_signed
        on contracts_signed.user_id = rep_months.user_id and contracts_signed.month_start = rep_months.month_start
    left join payments_received
        on payments_received.user_id = rep_months.user_id and payments_received.month_start = rep_months.month_start
    left join targets
        on targets.user_id = rep_months.user_id and targets.month_start = rep_months.month_start
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
