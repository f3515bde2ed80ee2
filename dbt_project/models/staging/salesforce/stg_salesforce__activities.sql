-- Salesforce's tasks and events as the contract's activities (docs/sources.md): customer = the account the activity
-- belongs to; opportunity = what_id when it names an opportunity (an id with prefix 006), else none; user = the
-- owner; activity_type = the subtype lower-cased (call, email, task, event, ...; a task or event without a subtype,
-- as older orgs sync them, is 'task' or 'event'); occurred_at = the event's start (activity_date_time), else the
-- activity's date at 00:00 UTC, else (a task without a date) when it was created. Task and event ids never collide
-- (prefixes 00T and 00U). A deleted task or event is kept flagged deleted.
with tasks as (
    select
        id,
        account_id,
        what_id,
        owner_id,
        coalesce(nullif(lower(trim(task_subtype)), ''), 'task')      as activity_type,
        {{ salesforce_date_start('activity_date') }}                  as activity_day_start,
        cast(null as timestamp)                                       as activity_date_time,
        created_date,
        {{ salesforce_is_deleted() }}                                 as is_deleted,
        {{ salesforce_synced_at() }} as _fivetran_synced,
        _load_id,
        _loaded_at
    from {{ source('salesforce', 'task') }}
),

events as (
    select
        id,
        account_id,
        what_id,
        owner_id,
        coalesce(nullif(lower(trim(event_subtype)), ''), 'event')     as activity_type,
        {{ salesforce_date_start('activity_date') }}                  as activity_day_start,
        cast(activity_date_time as timestamp)                         as activity_date_time,
        created_date,
        {{ salesforce_is_deleted() }}                                 as is_deleted,
        {{ salesforce_synced_at() }} as _fivetran_synced,
        _load_id,
        _loaded_at
    from {{ source('salesforce', 'event') }}
),

activities as (
    select * from tasks
    union all
    select * from events
),

final as (
    select
        {{ source_id_key('id') }}                                                 as activity_id,
        {{ source_id_key('account_id') }}                                         as customer_id,
        case when what_id like '006%' then {{ source_id_key('what_id') }} end     as opportunity_id,
        {{ source_id_key('owner_id') }}                                           as user_id,
        cast(activity_type as {{ dbt.type_string() }})                            as activity_type,
        coalesce(activity_date_time, activity_day_start, cast(created_date as timestamp)) as occurred_at,
        is_deleted,
        cast(_fivetran_synced as timestamp)                                       as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                                 as _load_id,
        cast(_loaded_at as timestamp)                                             as _loaded_at
    from activities
)

select * from final
