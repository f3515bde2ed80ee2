-- One row per month, from the month of the first opportunity to the as-of month: opportunities created,
-- won and lost, win rate, won amount, deal size and sales cycle of the month, and the open and weighted
-- pipeline as of the month's end (the as-of date for the as-of month). Definitions: domain.md §2
-- "win rate", "win rate by amount", "average deal size", "sales cycle", "open pipeline".
with opportunities as (
    select
        opportunity_id,
        amount,
        win_probability,
        created_date,
        closed_date,
        days_to_close,
        is_won
    from {{ ref('fct_opportunities') }}
),

months as (
    select distinct
        month_start,
        cast(
            case
                when month_end > {{ as_of_date() }} then {{ as_of_date() }}
                else month_end
            end
        as date) as pipeline_date
    from {{ ref('dim_date') }}
    where month_start >= (select min({{ to_month_start('created_date') }}) from opportunities)
      and month_start <= {{ to_month_start(as_of_date()) }}
),

created_by_month as (
    select
        {{ to_month_start('created_date') }} as month_start,
        count(*)                             as new_opportunities
    from opportunities
    where created_date is not null
    group by {{ to_month_start('created_date') }}
),

won_lost_by_month as (  -- won, lost and the win rate, as defined once in int_opportunities__won_lost_monthly
    select
        month_start,
        opportunities_won,
        opportunities_lost,
        won_amount,
        win_rate,
        win_rate_by_amount
    from {{ ref('int_opportunities__won_lost_monthly') }}
    where breakdown = 'all_sources'
),

won_by_month as (  -- deal size and sales cycle of the opportunities won, by closed_date
    select
        {{ to_month_start('closed_date') }}                      as month_start,
        avg(case when is_won then amount end)                    as avg_deal_size,
        avg(case when is_won then days_to_close end)             as avg_sales_cycle_days,
        {{ median('case when is_won then days_to_close end') }}  as median_sales_cycle_days
    from opportunities
    where closed_date is not null
    group by {{ to_month_start('closed_date') }}
),

-- Opportunities open at the end of each month: created on or before that day, not closed by it.
open_at_month_end as (
    select
        months.month_start,
        months.pipeline_date,
        opportunities.opportunity_id,
        opportunities.amount,
        opportunities.win_probability as current_win_probability
    from months
    inner join opportunities
        on months.pipeline_date >= opportunities.created_date
       and (opportunities.closed_date is null or months.pipeline_date < opportunities.closed_date)
),

-- The stage spell each of them was in at the end of that day: entered by then, not yet left.
spell_at_month_end as (
    select
        open_at_month_end.month_start,
        open_at_month_end.opportunity_id,
        dim_stages.win_probability,
        row_number() over (
            partition by open_at_month_end.month_start, open_at_month_end.opportunity_id
            order by spells.entered_at desc, spells.spell_number desc
        ) as latest_first
    from open_at_month_end
    inner join {{ ref('fct_opportunity_stage_history') }} as spells
        on open_at_month_end.opportunity_id = spells.opportunity_id
       and {{ to_reporting_date('spells.entered_at') }} <= open_at_month_end.pipeline_date
       and (spells.exited_at is null
            or {{ to_reporting_date('spells.exited_at') }} > open_at_month_end.pipeline_date)
    left join {{ ref('dim_stages') }} as dim_stages
        on spells.stage = dim_stages.stage
),

-- The stage's win probability that day; the current stage's when no spell covers the day.
-- A stage missing from the catalogue weighs nothing.
weighted_open_at_month_end as (
    select
        open_at_month_end.month_start,
        open_at_month_end.amount,
        open_at_month_end.amount * coalesce(
            case
                when spell_at_month_end.opportunity_id is not null then spell_at_month_end.win_probability
                else open_at_month_end.current_win_probability
            end,
            0
        ) as weighted_amount
    from open_at_month_end
    left join spell_at_month_end
        on open_at_month_end.month_start = spell_at_month_end.month_start
       and open_at_month_end.opportunity_id = spell_at_month_end.opportunity_id
       and spell_at_month_end.latest_first = 1
),

pipeline_by_month as (
    select
        month_start,
        sum(amount)          as open_pipeline_amount,
        sum(weighted_amount) as weighted_pipeline_amount
    from weighted_open_at_month_end
    group by month_start
),

final as (
    select
        months.month_start,
        cast(coalesce(created_by_month.new_opportunities, 0) as {{ dbt.type_bigint() }}) as new_opportunities,
        cast(coalesce(won_lost_by_month.opportunities_won, 0) as {{ dbt.type_bigint() }})  as won_opportunities,
        cast(coalesce(won_lost_by_month.opportunities_lost, 0) as {{ dbt.type_bigint() }}) as lost_opportunities,
        won_lost_by_month.win_rate,
        won_lost_by_month.win_rate_by_amount,
        {{ to_money('coalesce(won_lost_by_month.won_amount, 0)') }}                        as won_amount,
        {{ to_money('won_by_month.avg_deal_size') }}                                       as avg_deal_size,
        cast(won_by_month.avg_sales_cycle_days as {{ dbt.type_numeric() }})                as avg_sales_cycle_days,
        cast(won_by_month.median_sales_cycle_days as {{ dbt.type_numeric() }})             as median_sales_cycle_days,
        {{ to_money('coalesce(pipeline_by_month.open_pipeline_amount, 0)') }}            as open_pipeline_amount,
        {{ to_money('coalesce(pipeline_by_month.weighted_pipeline_amount, 0)') }}        as weighted_pipeline_amount,
        months.pipeline_date
    from months
    left join created_by_month
        on months.month_start = created_by_month.month_start
    left join won_lost_by_month
        on months.month_start = won_lost_by_month.month_start
    left join won_by_month
        on months.month_start = won_by_month.month_start
    left join pipeline_by_month
        on months.month_start = pipeline_by_month.month_start
)

select * from final
