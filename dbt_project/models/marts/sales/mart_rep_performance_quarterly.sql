-- One row per rep and fiscal quarter in which the rep has a target, a contract, a payment or a new customer:
-- the quarter's figures, its targets (the sum of its months' targets), completion and the rep's rank among the
-- quarter's reps (domain.md §2 "fiscal calendar", "Reps and targets"). The fiscal quarter of a day or a month
-- comes from macros/fiscal.sql (var fiscal_year_start_month), as dim_date's does; a target set for a month
-- past dim_date's end still finds its quarter.
with rep_days as (  -- what each rep did each day (who is credited for what: int_rep_activity__daily)
    select *
    from {{ ref('int_rep_activity__daily') }}
    where user_id is not null
),

rep_quarter_activity as (
    select
        user_id,
        {{ fiscal_quarter_start('date_day') }} as fiscal_quarter_start,
        sum(new_customers)                     as new_customers,
        sum(contracts_signed)                  as contracts_signed,
        sum(contract_amount)                   as contract_amount,
        sum(payment_amount)                    as payment_amount,
        count(payment_amount)                  as days_with_payments
    from rep_days
    group by user_id, {{ fiscal_quarter_start('date_day') }}
),

rep_quarter_sales as (  -- only what gives a rep a quarterly row (follow-ups and opportunities alone do not)
    select *
    from rep_quarter_activity
    where new_customers > 0 or contracts_signed > 0 or days_with_payments > 0
),

targets as (  -- the months' targets added up; null when no month of the quarter has one
    select
        user_id,
        {{ fiscal_quarter_start('month_start') }} as fiscal_quarter_start,
        sum(contract_amount_target)               as contract_amount_target,
        sum(payment_amount_target)                as payment_amount_target,
        sum(new_customer_target)                  as new_customer_target
    from {{ ref('int_sales_targets__monthly') }}
    group by user_id, {{ fiscal_quarter_start('month_start') }}
),

rep_quarters as (
    select user_id, fiscal_quarter_start from rep_quarter_sales
    union
    select user_id, fiscal_quarter_start from targets
),

rep_quarter_actuals as (
    select
        rep_quarters.fiscal_quarter_start,
        rep_quarters.user_id,
        coalesce(rep_quarter_sales.new_customers, 0)    as new_customers,
        coalesce(rep_quarter_sales.contracts_signed, 0) as contracts_signed,
        coalesce(rep_quarter_sales.contract_amount, 0)  as contract_amount,
        coalesce(rep_quarter_sales.payment_amount, 0)   as payment_amount,
        targets.contract_amount_target,
        targets.payment_amount_target,
        targets.new_customer_target
    from rep_quarters
    left join rep_quarter_sales
        on rep_quarters.user_id = rep_quarter_sales.user_id
       and rep_quarters.fiscal_quarter_start = rep_quarter_sales.fiscal_quarter_start
    left join targets
        on rep_quarters.user_id = targets.user_id
       and rep_quarters.fiscal_quarter_start = targets.fiscal_quarter_start
),

final as (
    select
        {{ fiscal_year('fiscal_quarter_start') }}                as fiscal_year,
        {{ fiscal_quarter('fiscal_quarter_start') }}             as fiscal_quarter,
        fiscal_quarter_start,
        user_id,
        cast(contracts_signed as {{ dbt.type_bigint() }})        as contracts_signed,
        {{ to_money('contract_amount') }}                        as contract_amount,
        {{ to_money('payment_amount') }}                         as payment_amount,
        cast(new_customers as {{ dbt.type_bigint() }})           as new_customers,
        {{ to_money('contract_amount_target') }}                 as contract_amount_target,
        {{ to_money('payment_amount_target') }}                  as payment_amount_target,
        cast(new_customer_target as {{ dbt.type_bigint() }})     as new_customer_target,
        {{ ratio('contract_amount', 'contract_amount_target') }} as contract_target_completion,
        {{ ratio('payment_amount', 'payment_amount_target') }}   as payment_target_completion,
        {{ ratio('new_customers', 'new_customer_target') }}      as new_customer_target_completion,
        cast(rank() over (partition by fiscal_quarter_start order by contract_amount desc) as {{ dbt.type_bigint() }})
            as rank_contract_amount,
        cast(rank() over (partition by fiscal_quarter_start order by payment_amount desc) as {{ dbt.type_bigint() }})
            as rank_payment_amount
    from rep_quarter_actuals
)

select * from final
