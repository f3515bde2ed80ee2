-- One row per month, from the month of the first created opportunity to the as-of month: where the month's
-- pipeline came from and where it went (domain.md §2 "Pipeline movement"). Opening and closing are counted
-- from the opportunities' dates, not derived from the flows, so that the data test of
-- closing = opening + created − won − lost checks the figures rather than restating them.
-- Every column counts each opportunity at its one fct_opportunities amount (reporting currency), so the
-- identity holds for amounts as for counts. The as-of month ends at the as-of date.
with opportunities as (  -- an opportunity without a creation date is in no month
    select
        opportunity_id,
        amount,
        created_date,
        closed_date,
        is_won,
        is_lost
    from {{ ref('fct_opportunities') }}
    where created_date is not null
),

months as (
    select distinct
        month_start,
        cast(
            case
                when month_end > {{ as_of_date() }} then {{ as_of_date() }}
                else month_end
            end
        as date) as month_end
    from {{ ref('dim_date') }}
    where month_start >= (select min({{ to_month_start('created_date') }}) from opportunities)
      and month_start <= {{ to_month_start(as_of_date()) }}
),

-- Open at the month's first day: created before it and not closed before it.
opening as (
    select
        months.month_start,
        count(*)                 as opportunities,
        sum(opportunities.amount) as amount
    from months
    inner join opportunities
        on months.month_start > opportunities.created_date
       and (opportunities.closed_date is null or months.month_start <= opportunities.closed_date)
    group by months.month_start
),

-- Open at the month's last day (the as-of date for the as-of month): created by then and not closed by then.
closing as (
    select
        months.month_start,
        count(*)                 as opportunities,
        sum(opportunities.amount) as amount
    from months
    inner join opportunities
        on months.month_end >= opportunities.created_date
       and (opportunities.closed_date is null or months.month_end < opportunities.closed_date)
    group by months.month_start
),

created as (
    select
        months.month_start,
        count(*)                 as opportunities,
        sum(opportunities.amount) as amount
    from months
    inner join opportunities
        on opportunities.created_date between months.month_start and months.month_end
    group by months.month_start
),

closed as (  -- won and lost by closed_date
    select
        months.month_start,
        count(case when opportunities.is_won then 1 end)                as won_opportunities,
        sum(case when opportunities.is_won then opportunities.amount end)  as won_amount,
        count(case when opportunities.is_lost then 1 end)               as lost_opportunities,
        sum(case when opportunities.is_lost then opportunities.amount end) as lost_amount
    from months
    inner join opportunities
        on opportunities.closed_date between months.month_start and months.month_end
    group by months.month_start
),

final as (
    select
        months.month_start,
        cast(coalesce(opening.opportunities, 0) as {{ dbt.type_bigint() }})  as opening_opportunities,
        {{ to_money('coalesce(opening.amount, 0)') }}                         as opening_amount,
        cast(coalesce(created.opportunities, 0) as {{ dbt.type_bigint() }})  as created_opportunities,
        {{ to_money('coalesce(created.amount, 0)') }}                         as created_amount,
        cast(coalesce(closed.won_opportunities, 0) as {{ dbt.type_bigint() }})  as won_opportunities,
        {{ to_money('coalesce(closed.won_amount, 0)') }}                        as won_amount,
        cast(coalesce(closed.lost_opportunities, 0) as {{ dbt.type_bigint() }}) as lost_opportunities,
        {{ to_money('coalesce(closed.lost_amount, 0)') }}                       as lost_amount,
        cast(coalesce(closing.opportunities, 0) as {{ dbt.type_bigint() }})  as closing_opportunities,
        {{ to_money('coalesce(closing.amount, 0)') }}                         as closing_amount,
        months.month_end                                                      as movement_end_date
    from months
    left join opening on months.month_start = opening.month_start
    left join created on months.month_start = created.month_start
    left join closed on months.month_start = closed.month_start
    left join closing on months.month_start = closing.month_start
)

select * from final
