-- The win rate, defined once (domain.md §2 "win rate" = won / (won + lost), among the opportunities closed in
-- the period), and the win rate by amount (won amount / (won amount + lost amount)): one row per month in which
-- opportunities closed (closed_date, reporting time zone), for all sources together and for each lead source,
-- with the won and lost counts and amounts and the two rates.
--   breakdown 'all_sources'  source null: mart_opportunity_kpis_monthly
--   breakdown 'source'       one row per lead source ('unknown' when missing): mart_lead_source_monthly
-- The semantic layer's win_rate metric divides the same two counts at the grain a query asks for.
-- A table, not a view like most intermediates: both marts read it.
{{ config(materialized='table') }}

with closed_opportunities as (
    select
        {{ to_month_start('closed_date') }} as month_start,
        coalesce(source, 'unknown')         as source,
        amount,
        is_won,
        is_lost
    from {{ ref('fct_opportunities') }}
    where closed_date is not null
),

won_lost as (
    select
        month_start,
        'all_sources'                          as breakdown,
        cast(null as {{ dbt.type_string() }})  as source,
        count(case when is_won then 1 end)     as opportunities_won,
        count(case when is_lost then 1 end)    as opportunities_lost,
        sum(case when is_won then amount end)  as won_amount,
        sum(case when is_lost then amount end) as lost_amount
    from closed_opportunities
    group by month_start

    union all

    select
        month_start,
        'source'                               as breakdown,
        source,
        count(case when is_won then 1 end)     as opportunities_won,
        count(case when is_lost then 1 end)    as opportunities_lost,
        sum(case when is_won then amount end)  as won_amount,
        sum(case when is_lost then amount end) as lost_amount
    from closed_opportunities
    group by month_start, source
),

final as (
    select
        month_start,
        breakdown,
        source,
        opportunities_won,
        opportunities_lost,
        cast(won_amount as decimal(18,2))  as won_amount,  -- the facts' type on every engine
        cast(lost_amount as decimal(18,2)) as lost_amount,
        {{ ratio('opportunities_won', 'opportunities_won + opportunities_lost') }} as win_rate,
        {{ ratio('coalesce(won_amount, 0)', 'coalesce(won_amount, 0) + coalesce(lost_amount, 0)') }} as win_rate_by_amount
    from won_lost
)

select * from final
