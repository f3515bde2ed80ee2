-- One row per payment plan (installment) of a contract that is not deleted: the amount due and the amount paid
-- against it, both converted at the as-of date's rate (domain.md §3), so a fully paid plan owes exactly 0.
with contracts as (  -- not deleted: plans of a deleted or unknown contract count nowhere
    select * from {{ ref('stg_crm__contracts') }}
    where not is_deleted
),

plans as (
    select * from {{ ref('stg_crm__payment_plans') }}
),

paid_by_plan as (  -- in the contract's currency; summed before converting, so rounding cannot leave a cent
    select
        plan_id,
        sum(amount_original) as paid_amount_original
    from {{ ref('stg_crm__payments') }}
    where not is_deleted
      and plan_id is not null
    group by plan_id
),

plans_with_rate as (
    select
        plans.plan_id,
        plans.contract_id,
        contracts.customer_id,
        contracts.owner_user_id,
        plans.installment_no,
        plans.due_date,
        plans.amount_original                           as due_amount_original,
        coalesce(paid_by_plan.paid_amount_original, 0)  as paid_amount_original,
        contracts.currency,
        {{ reporting_rate('contracts.currency', 'fx.rate_to_reporting') }} as rate_to_reporting
    from plans
    inner join contracts
        on plans.contract_id = contracts.contract_id
    left join paid_by_plan
        on plans.plan_id = paid_by_plan.plan_id
    {{ join_fx_rates('fx', 'contracts.currency', as_of_date()) }}
),

final as (
    select
        plan_id,
        contract_id,
        customer_id,
        owner_user_id,
        installment_no,
        due_date,
        {{ to_reporting_currency('due_amount_original', 'rate_to_reporting') }}  as due_amount,
        {{ to_reporting_currency('paid_amount_original', 'rate_to_reporting') }} as paid_amount,
        due_amount_original,
        cast(paid_amount_original as decimal(18,2))                              as paid_amount_original,
        currency
    from plans_with_rate
)

select * from final
