-- One row per stage spell of an opportunity that is not deleted: a spell per stage-history row, from the
-- change that entered the stage (to_stage) to the next change; the current spell is open-ended.
with opportunities as (  -- not deleted
    select * from {{ ref('fct_opportunities') }}
),

stages as (
    select * from {{ ref('dim_stages') }}
),

stage_changes as (  -- a change without a time cannot be placed in the sequence
    select history.*
    from {{ ref('int_opportunity_stage_changes__unioned') }} as history
    inner join opportunities
        on opportunities.opportunity_id = history.opportunity_id
    where history.changed_at is not null
),

spells as (
    select
        opportunity_id,
        to_stage                                                                     as stage,
        changed_at                                                                   as entered_at,
        row_number() over (partition by opportunity_id order by changed_at, history_id) as spell_number,
        lead(changed_at) over (partition by opportunity_id order by changed_at, history_id) as exited_at,
        count(*) over (partition by opportunity_id)                                  as spell_count
    from stage_changes
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
        spells.spell_number = spells.spell_count    as is_current_spell
    from spells
    inner join opportunities
        on opportunities.opportunity_id = spells.opportunity_id
    left join stages
        on stages.stage = spells.stage
)

select * from final
