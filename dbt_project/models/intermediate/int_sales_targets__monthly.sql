-- One row per rep and month with a sales target (domain.md §1 sales_targets, §2 target completion):
-- the month's contract amount, payment amount and new customer targets. target_month is normalised to
-- the first day of its month; two rows for the same rep and month (a target_month not on the 1st beside
-- one that is) add up. A target that is null stays null (no target), never 0.
with targets as (
    select
        user_id,
        {{ to_month_start('target_month') }} as month_start,
        contract_amount_target,
        payment_amount_target,
        new_customer_target
    from {{ ref('stg_crm__sales_targets') }}
    where user_id is not null
      and target_month is not null
),

final as (
    select
        user_id,
        month_start,
        sum(contract_amount_target) as contract_amount_target,
        sum(payment_amount_target)  as payment_amount_target,
        sum(new_customer_target)    as new_customer_target
    from targets
    group by user_id, month_start
)

select * from final
