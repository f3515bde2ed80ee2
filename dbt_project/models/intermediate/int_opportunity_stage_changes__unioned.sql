-- One row per stage change of an opportunity: the CRM's own stage history where it keeps one, and for an
-- opportunity without a single recorded change, the changes the warehouse saw in its snapshots
-- (snap_opportunities: a change wherever a version's stage differs from the previous version's).
-- So the funnel and the stage spells still work on a CRM that keeps no opportunity_stage_history.
-- A derived change is placed at the version's dbt_valid_from (the CRM's updated_at of that version): the first
-- one is when the warehouse first saw the opportunity at that stage, not necessarily when it entered it.
with recorded_changes as (
    select
        history_id,
        opportunity_id,
        from_stage,
        to_stage,
        changed_at,
        changed_by_user_id,
        false as is_derived_from_snapshots,
        loaded_at
    from {{ ref('stg_crm__opportunity_stage_history') }}
),

opportunities_with_recorded_changes as (
    select distinct opportunity_id
    from recorded_changes
),

snapshot_versions as (
    select
        opportunity_id,
        stage,
        dbt_valid_from,
        loaded_at,
        lag(stage) over (partition by opportunity_id order by dbt_valid_from) as previous_stage
    from {{ snapshot_history('snap_opportunities', 'stg_crm__opportunities') }}
),

derived_changes as (  -- only for opportunities the CRM recorded no change of
    select
        cast(null as bigint)            as history_id,
        snapshot_versions.opportunity_id,
        snapshot_versions.previous_stage as from_stage,
        snapshot_versions.stage         as to_stage,
        snapshot_versions.dbt_valid_from as changed_at,
        cast(null as bigint)            as changed_by_user_id,
        true                            as is_derived_from_snapshots,
        snapshot_versions.loaded_at
    from snapshot_versions
    left join opportunities_with_recorded_changes
        on snapshot_versions.opportunity_id = opportunities_with_recorded_changes.opportunity_id
    where opportunities_with_recorded_changes.opportunity_id is null
      and snapshot_versions.stage is not null
      and snapshot_versions.stage is distinct from snapshot_versions.previous_stage
),

final as (
    select
        *,
        {{ to_reporting_date('changed_at') }} as changed_date
    from (
        select * from recorded_changes
        union all
        select * from derived_changes
    ) as all_changes
)

select * from final
