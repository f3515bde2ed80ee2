-- One row per day and open stage, from the day the warehouse's history begins to the as-of date: the open
-- opportunities at that stage at the end of the day, their amount and their weighted amount (domain.md §2
-- "open pipeline", "weighted pipeline"), read from the snapshot history (snap_opportunities), not from the
-- CRM's current rows, so a past day shows the pipeline as it stood that day.
-- The version of an opportunity in effect at the end of day d is the one valid from on or before d and not
-- replaced before d + 1 (several changes in one day: the last counts). Open means not won and not lost and not
-- deleted in that version; money is that version's amount at day d's rate (domain.md §3: the as-of date of a
-- point-in-time figure is the day). Every open stage of the catalogue has a row every day, 0 when empty;
-- an opportunity at a stage missing from the catalogue counts in no row.
with versions as (
    select
        opportunity_id,
        stage,
        status,
        is_deleted,
        amount_original,
        currency,
        -- which snapshot recorded the version (versions recorded before recorded_at existed: their load's time)
        coalesce(recorded_at, loaded_at)          as recorded_at,
        {{ to_reporting_date('dbt_valid_from') }} as valid_from_date,
        {{ to_reporting_date('dbt_valid_to') }}   as valid_to_date
    from {{ snapshot_history('snap_opportunities', 'stg_crm__opportunities') }}
),

-- The first snapshot recorded every row with the CRM's clock at the warehouse's first build: its newest
-- change is the first day whose end-of-day state the history knows for every opportunity. The first snapshot's
-- versions are those with the earliest recorded_at (the time the snapshot was taken), not the earliest
-- loaded_at: a first run killed after its raw merge leaves rows the next run loads again before that snapshot.
first_snapshot as (
    select min(recorded_at) as recorded_at
    from versions
),

history_start as (
    select max(versions.valid_from_date) as date_day
    from versions
    inner join first_snapshot
        on versions.recorded_at = first_snapshot.recorded_at
),

days as (
    select dim_date.date_day
    from {{ ref('dim_date') }} as dim_date
    inner join history_start
        on dim_date.date_day >= history_start.date_day
    where dim_date.date_day <= {{ as_of_date() }}
),

open_stages as (
    select
        stage,
        stage_order,
        win_probability
    from {{ ref('dim_stages') }}
    where not is_closed
),

open_versions_at_day_end as (
    select
        days.date_day,
        versions.opportunity_id,
        versions.stage,
        versions.amount_original,
        versions.currency
    from days
    inner join versions
        on days.date_day >= versions.valid_from_date
       and (versions.valid_to_date is null or days.date_day < versions.valid_to_date)
    where not versions.is_deleted
      and not coalesce(versions.status in ('won', 'lost'), false)
),

open_amounts as (
    select
        open_versions_at_day_end.date_day,
        open_versions_at_day_end.opportunity_id,
        open_versions_at_day_end.stage,
        {{ to_reporting_currency(
            'open_versions_at_day_end.amount_original',
            reporting_rate('open_versions_at_day_end.currency', 'fx.rate_to_reporting')
        ) }} as amount
    from open_versions_at_day_end
    {{ join_fx_rates('fx', 'open_versions_at_day_end.currency', 'open_versions_at_day_end.date_day') }}
),

pipeline_by_day_and_stage as (
    select
        open_amounts.date_day,
        open_amounts.stage,
        count(*)                                                   as open_opportunities,
        sum(open_amounts.amount)                                   as open_amount,
        sum(open_amounts.amount * open_stages.win_probability)     as weighted_amount
    from open_amounts
    inner join open_stages
        on open_amounts.stage = open_stages.stage
    group by open_amounts.date_day, open_amounts.stage
),

final as (
    select
        days.date_day,
        open_stages.stage,
        open_stages.stage_order,
        open_stages.win_probability,
        cast(coalesce(pipeline_by_day_and_stage.open_opportunities, 0) as {{ dbt.type_bigint() }}) as open_opportunities,
        {{ to_money('coalesce(pipeline_by_day_and_stage.open_amount, 0)') }}                      as open_amount,
        {{ to_money('coalesce(pipeline_by_day_and_stage.weighted_amount, 0)') }}                  as weighted_amount
    from days
    cross join open_stages
    left join pipeline_by_day_and_stage
        on days.date_day = pipeline_by_day_and_stage.date_day
       and open_stages.stage = pipeline_by_day_and_stage.stage
)

select * from final
