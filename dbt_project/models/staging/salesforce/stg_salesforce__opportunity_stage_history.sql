-- Salesforce's OpportunityHistory (opportunity_history) as the contract's opportunity_stage_history. Salesforce writes
-- a history row when an opportunity is created and whenever its stage, amount, probability or close date changes:
-- only a row whose stage_name differs from the opportunity's previous row (in created_date, then id order) is a
-- stage change; the first row is the stage the opportunity was created in. from_stage = the previous row's stage.
-- Deleted history rows are left out. Salesforce's history does not say who made the change (created_by_id is not
-- read): changed_by_user_id is null.
with history as (
    select * from {{ source('salesforce', 'opportunity_history') }}
    where not {{ salesforce_is_deleted() }}
),

with_previous as (
    select
        history.*,
        lower(trim(history.stage_name)) as stage,
        lag(lower(trim(history.stage_name))) over (
            partition by history.opportunity_id order by history.created_date, history.id
        )                       as previous_stage,
        row_number() over (
            partition by history.opportunity_id order by history.created_date, history.id
        )                       as version_number
    from history
),

final as (
    select
        {{ source_id_key('id') }}                                     as history_id,
        {{ source_id_key('opportunity_id') }}                         as opportunity_id,
        cast(previous_stage as {{ dbt.type_string() }})               as from_stage,
        cast(stage as {{ dbt.type_string() }})                        as to_stage,
        cast(created_date as timestamp)                               as changed_at,
        cast(null as bigint)                                          as changed_by_user_id,
        cast({{ salesforce_synced_at() }} as timestamp)                           as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                     as _load_id,
        cast(_loaded_at as timestamp)                                 as _loaded_at
    from with_previous
    where version_number = 1
       or not coalesce(stage = previous_stage, false)
)

select * from final
