-- 悟空CRM's stage changes (wk_crm_business_change) as the contract's opportunity_stage_history (docs/sources.md).
-- 悟空CRM records no change at creation: each opportunity gets a first row entering its stage group's first stage
-- (lowest order_num) at its create_time, by its creator, with history_id = -business_id (negative, so it never
-- collides with a change_id and sorts first among changes at the same instant). Then one row per change; from_stage
-- is the previous row's stage. Closing adds no row (a won opportunity reached every stage by rule).
with businesses as (
    select * from {{ source('wukong', 'wk_crm_business') }}
),

statuses as (
    select * from {{ source('wukong', 'wk_crm_business_status') }}
),

first_stages as (  -- each stage group's first stage
    select
        type_id,
        stage_name
    from (
        select
            type_id,
            lower(trim(name)) as stage_name,
            row_number() over (partition by type_id order by order_num, status_id) as position
        from statuses
    ) as ordered
    where position = 1
),

creation_rows as (
    select
        -cast(businesses.business_id as bigint)            as history_id,
        cast(businesses.business_id as bigint)             as opportunity_id,
        first_stages.stage_name                            as to_stage,
        {{ local_to_utc('businesses.create_time') }}       as changed_at,
        cast(businesses.create_user_id as bigint)          as changed_by_user_id,
        {{ wukong_changed_at('businesses') }}              as updated_at,
        businesses._load_id,
        businesses._loaded_at
    from businesses
    left join first_stages
        on businesses.type_id = first_stages.type_id
),

change_rows as (
    select
        cast(changes.change_id as bigint)                  as history_id,
        cast(changes.business_id as bigint)                as opportunity_id,
        lower(trim(statuses.name))                         as to_stage,
        {{ local_to_utc('changes.create_time') }}          as changed_at,
        cast(changes.create_user_id as bigint)             as changed_by_user_id,
        {{ local_to_utc('changes.create_time') }}          as updated_at,
        changes._load_id,
        changes._loaded_at
    from {{ source('wukong', 'wk_crm_business_change') }} as changes
    left join statuses
        on changes.status_id = statuses.status_id
),

all_rows as (
    select * from creation_rows
    union all
    select * from change_rows
),

final as (
    select
        history_id,
        opportunity_id,
        cast(lag(to_stage) over (
            partition by opportunity_id order by changed_at, history_id
        ) as {{ dbt.type_string() }})                          as from_stage,
        cast(to_stage as {{ dbt.type_string() }})              as to_stage,
        changed_at,
        changed_by_user_id,
        updated_at,
        cast(_load_id as {{ dbt.type_string() }})              as _load_id,
        cast(_loaded_at as timestamp)                      as _loaded_at
    from all_rows
)

select * from final
