-- One row per month with an installment due or a payment received (合同与回款): what was due in the month,
-- what has been paid against those installments, the collection rate (domain.md §2 "collection rate" =
-- paid / due, for plans due in the period), and the payments received in the month (domain.md §2 "payments
-- received in period"), with or without a plan.
with plans_due as (  -- due and paid amounts at the as-of date's rate (fct_payment_plans, domain.md §3)
    select
        {{ to_month_start('due_date') }} as month_start,
        count(*)                         as installments_due,
        sum(due_amount)                  as due_amount,
        sum(paid_amount)                 as paid_against_due
    from {{ ref('fct_payment_plans') }}
    where due_date is not null
    group by {{ to_month_start('due_date') }}
),

payments_received as (  -- every payment, against a plan or not, at its paid_date's rate
    select
        {{ to_month_start('paid_date') }}                   as month_start,
        sum(amount)                                         as payments_received,
        sum(case when plan_id is null then amount end)      as payments_without_plan
    from {{ ref('fct_payments') }}
    where paid_date is not null
    group by {{ to_month_start('paid_date') }}
),

collection_months as (
    select month_start from plans_due
    union
    select month_start from payments_received
),

final as (
    select
        collection_months.month_start,
        cast(coalesce(plans_due.installments_due, 0) as {{ dbt.type_bigint() }}) as installments_due,
        {{ to_money('coalesce(plans_due.due_amount, 0)') }}                       as due_amount,
        {{ to_money('coalesce(plans_due.paid_against_due, 0)') }}                 as paid_against_due,
        {{ ratio('plans_due.paid_against_due', 'plans_due.due_amount') }}         as collection_rate,
        {{ to_money('coalesce(payments_received.payments_received, 0)') }}        as payments_received,
        {{ to_money('coalesce(payments_received.payments_without_plan, 0)') }}    as payments_without_plan
    from collection_months
    left join plans_due
        on collection_months.month_start = plans_due.month_start
    left join payments_received
        on collection_months.month_start = payments_received.month_start
)

select * from final
