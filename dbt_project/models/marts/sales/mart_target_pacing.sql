-- One row per rep (active or not) with a contract-amount target in the as-of month: how far into the month we
-- are, what the target expects by now, what the rep has signed, and whether the pipeline due this month can
-- close the gap (domain.md §2 "pacing", "pipeline due this month").
{%- set as_of = as_of_date() %}

with as_of_month as (
    select
        {{ to_month_start(as_of) }}                                   as month_start,
        {{ dbt.last_day(to_month_start(as_of), 'month') }}            as month_end,
        {{ days_between(to_month_start(as_of), as_of) }} + 1          as elapsed_days,
        cast(extract(day from {{ dbt.last_day(to_month_start(as_of), 'month') }}) as integer) as days_in_month
),

targets as (  -- reps with a contract-amount target this month
    select
        int_sales_targets__monthly.user_id,
        int_sales_targets__monthly.contract_amount_target
    from {{ ref('int_sales_targets__monthly') }} as int_sales_targets__monthly
    inner join as_of_month
        on int_sales_targets__monthly.month_start = as_of_month.month_start
    where int_sales_targets__monthly.contract_amount_target is not null
),

signed_so_far as (  -- contracts signed this month up to the as-of date, by the contract's owner
    select
        rep_days.user_id,
        sum(rep_days.contract_amount) as contract_amount
    from {{ ref('int_rep_activity__daily') }} as rep_days
    inner join as_of_month
        on rep_days.date_day between as_of_month.month_start and {{ as_of }}
    group by rep_days.user_id
),

-- Open at the as-of date and expected to close this month (earlier this month and now past due included).
pipeline_due as (
    select
        opportunities.owner_user_id                                         as user_id,
        count(*)                                                            as opportunities,
        sum(opportunities.amount)                                           as amount,
        sum(opportunities.amount * coalesce(opportunities.win_probability, 0)) as weighted_amount
    from {{ ref('fct_opportunities') }} as opportunities
    inner join as_of_month
        on opportunities.expected_close_date between as_of_month.month_start and as_of_month.month_end
    where opportunities.created_date <= {{ as_of }}
      and (opportunities.closed_date is null or opportunities.closed_date > {{ as_of }})
    group by opportunities.owner_user_id
),

rep_pacing as (
    select
        targets.user_id,
        as_of_month.month_start,
        targets.contract_amount_target,
        coalesce(signed_so_far.contract_amount, 0)          as contract_amount,
        as_of_month.elapsed_days,
        as_of_month.days_in_month,
        {{ to_money('targets.contract_amount_target * as_of_month.elapsed_days / as_of_month.days_in_month') }}
                                                            as expected_to_date,
        coalesce(pipeline_due.opportunities, 0)             as pipeline_due_opportunities,
        coalesce(pipeline_due.amount, 0)                    as pipeline_due_amount,
        {{ to_money('coalesce(pipeline_due.weighted_amount, 0)') }} as weighted_pipeline_due_amount
    from targets
    cross join as_of_month
    left join signed_so_far on targets.user_id = signed_so_far.user_id
    left join pipeline_due on targets.user_id = pipeline_due.user_id
),

with_remaining as (
    select
        *,
        case
            when contract_amount_target > contract_amount then contract_amount_target - contract_amount
            else 0
        end                                                 as remaining_target,
        contract_amount + weighted_pipeline_due_amount      as projected_contract_amount
    from rep_pacing
),

final as (
    select
        user_id,
        month_start,
        {{ to_money('contract_amount_target') }}                         as contract_amount_target,
        {{ to_money('contract_amount') }}                                as contract_amount,
        cast(elapsed_days as integer)                                    as elapsed_days,
        cast(days_in_month as integer)                                   as days_in_month,
        expected_to_date,
        {{ ratio('contract_amount', 'expected_to_date') }}               as pacing_ratio,
        {{ to_money('remaining_target') }}                               as remaining_target,
        cast(pipeline_due_opportunities as {{ dbt.type_bigint() }})      as pipeline_due_opportunities,
        {{ to_money('pipeline_due_amount') }}                            as pipeline_due_amount,
        weighted_pipeline_due_amount,
        {{ ratio('pipeline_due_amount', 'remaining_target') }}           as coverage_ratio,
        {{ to_money('projected_contract_amount') }}                      as projected_contract_amount,
        {{ ratio('projected_contract_amount', 'contract_amount_target') }} as projected_completion
    from with_remaining
)

select * from final
