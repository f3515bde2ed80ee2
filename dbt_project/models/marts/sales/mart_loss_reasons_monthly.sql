-- One row per month and loss reason (商机丢失原因): the opportunities lost in the month (closed_date) for
-- that reason, and their amount (domain.md §2 "loss reasons"). A lost opportunity without a reason is
-- reported under 'unknown'.
with lost_opportunities as (
    select
        {{ to_month_start('closed_date') }} as month_start,
        coalesce(loss_reason, 'unknown')    as loss_reason,
        amount
    from {{ ref('fct_opportunities') }}
    where is_lost
      and closed_date is not null
),

by_month_and_reason as (
    select
        month_start,
        loss_reason,
        count(*)    as lost_opportunities,
        sum(amount) as lost_amount
    from lost_opportunities
    group by month_start, loss_reason
),

final as (
    select
        month_start,
        loss_reason,
        cast(lost_opportunities as {{ dbt.type_bigint() }}) as lost_opportunities,
        {{ to_money('coalesce(lost_amount, 0)') }}          as lost_amount,
        {{ ratio('lost_opportunities',
                 'sum(lost_opportunities) over (partition by month_start)') }} as share_of_lost
    from by_month_and_reason
)

select * from final
