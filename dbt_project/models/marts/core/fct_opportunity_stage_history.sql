-- One row per stage spell of an opportunity that is not deleted: a spell per stage change (the CRM's history, or
-- the changes derived from the snapshots where it has none), from the change that entered the stage (to_stage)
-- to the next change; the current spell is open-ended.
-- Incremental (delete+insert on opportunity_id): each build rewrites every spell of the opportunities whose row or
-- stage changes were loaded after the newest row the table holds, and of every open opportunity (its current
-- spell counts up to the as-of date); a pre-hook first removes the spells of opportunities no longer live.
-- A changed stage catalogue (stage_order) needs a full refresh.
{{ config(
    materialized=fact_materialization(),
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rows_no_longer_live('opportunity_id', ref('stg_crm__opportunities')) }}",
) }}

with opportunities as (  -- not deleted
    select * from {{ ref('fct_opportunities') }}
),

opportunity_loads as (
    select
        opportunity_id,
        loaded_at
    from {{ ref('stg_crm__opportunities') }}
),

stages as (
    select * from {{ ref('dim_stages') }}
),

stage_changes as (  -- a change without a time cannot be placed in the sequence
    select history.*
    from {{ ref('int_opportunity_stage_changes__unioned') }} as history
    inner join opportunities
        on history.opportunity_id = opportunities.opportunity_id
    where history.changed_at is not null
),

last_loads as (  -- the newest load of the opportunity's row or any of its changes
    select
        opportunity_loads.opportunity_id,
        greatest(opportunity_loads.loaded_at, max(stage_changes.loaded_at)) as loaded_at
    from opportunity_loads
    inner join stage_changes
        on opportunity_loads.opportunity_id = stage_changes.opportunity_id
    group by opportunity_loads.opportunity_id, opportunity_loads.loaded_at
),

opportunities_to_build as (
    select last_loads.opportunity_id, last_loads.loaded_at
    from last_loads
    inner join opportunities
        on last_loads.opportunity_id = opportunities.opportunity_id
    where not opportunities.is_closed
       or {{ loaded_after_last_build('last_loads.loaded_at') }}
),

spells as (
    select
        stage_changes.opportunity_id,
        stage_changes.to_stage                                                      as stage,
        stage_changes.changed_at                                                    as entered_at,
        row_number() over (
            partition by stage_changes.opportunity_id order by stage_changes.changed_at, stage_changes.history_id
        )                                                                           as spell_number,
        lead(stage_changes.changed_at) over (
            partition by stage_changes.opportunity_id order by stage_changes.changed_at, stage_changes.history_id
        )                                                                           as exited_at,
        count(*) over (partition by stage_changes.opportunity_id)                   as spell_count,
        opportunities_to_build.loaded_at
    from stage_changes
    inner join opportunities_to_build
        on stage_changes.opportunity_id = opportunities_to_build.opportunity_id
),

final as (
    select
        spells.opportunity_id,
        cast(spells.spell_number as integer)       as spell_number,
        spells.stage,
        stages.stage_order,
        spells.entered_at,
        spells.exited_at,
        cast(case
            when spells.exited_at is not null
                then {{ days_between(to_reporting_date('spells.entered_at'), to_reporting_date('spells.exited_at')) }}
            when not opportunities.is_closed  -- still open: until the as-of date (domain.md §2 time in stage)
                then {{ days_between(to_reporting_date('spells.entered_at'), as_of_date()) }}
            when coalesce(stages.is_closed, false)  -- won or lost: the stage has no end
                then null
            else {{ days_between(to_reporting_date('spells.entered_at'), 'opportunities.closed_date') }}
        end as integer)                             as days_in_stage,
        spells.spell_number = spells.spell_count    as is_current_spell,
        spells.loaded_at
    from spells
    inner join opportunities
        on spells.opportunity_id = opportunities.opportunity_id
    left join stages
        on spells.stage = stages.stage
)

select * from final
