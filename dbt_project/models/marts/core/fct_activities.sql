-- One row per activity (follow-up) that is not deleted.
-- Incremental: each build takes the activities loaded after the newest row the table holds (delete+insert on
-- activity_id); a pre-hook first removes the rows soft-deleted since, which delete+insert alone cannot do.
{{ config(
    materialized=fact_materialization(),
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rows_no_longer_live('activity_id', ref('stg_crm__activities')) }}",
) }}

with activities as (
    select * from {{ ref('stg_crm__activities') }}
    where not is_deleted
),

new_or_changed as (
    select * from activities
    where {{ loaded_after_last_build('loaded_at') }}
),

final as (
    select
        activity_id,
        customer_id,
        opportunity_id,
        user_id,
        activity_type,
        occurred_at,
        occurred_date,
        loaded_at
    from new_or_changed
)

select * from final
