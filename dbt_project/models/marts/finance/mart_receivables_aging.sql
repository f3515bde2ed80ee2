-- One row per payment plan (installment), as of the as-of date: what is still to be received on it and
-- how long it has been overdue (domain.md §2 "receivable per plan", "aging buckets"). Due and paid
-- amounts are both at the as-of date's rate (domain.md §3), so a fully paid plan owes exactly 0.
with payment_plans as (
    select * from {{ ref('fct_payment_plans') }}
),

receivables as (  -- paid_amount is 0, never null, for a plan nothing was paid against
    select
        *,
        due_amount - paid_amount as receivable_amount
    from payment_plans
),

overdue as (  -- overdue: due before the as-of date with something still to receive
    select
        *,
        coalesce(due_date < {{ as_of_date() }} and receivable_amount > 0, false) as is_overdue
    from receivables
),

aged as (
    select
        *,
        case
            when is_overdue then {{ days_between('due_date', as_of_date()) }}
            else 0
        end as days_overdue
    from overdue
),

final as (
    select
        plan_id,
        contract_id,
        customer_id,
        owner_user_id,
        installment_no,
        due_date,
        {{ to_money('due_amount') }}               as due_amount,
        {{ to_money('paid_amount') }}              as paid_amount,
        {{ to_money('receivable_amount') }}        as receivable_amount,
        is_overdue,
        cast(days_overdue as {{ dbt.type_int() }}) as days_overdue,
        case
            when days_overdue <= 0 then 'current'
            when days_overdue <= 30 then '1-30'
            when days_overdue <= 60 then '31-60'
            when days_overdue <= 90 then '61-90'
            else '90+'
        end                                        as aging_bucket
    from aged
)

select * from final
