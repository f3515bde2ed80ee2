-- One row per 悟空CRM customer custom-field record (batch_id): the current industry, level, source and region values
-- (docs/sources.md). Read by the customers and by the opportunities (an opportunity's source is its customer's).
with field_values as (
    {{ wukong_latest_field_values(source('wukong', 'wk_crm_customer_data')) }}
),

final as (
    select
        batch_id,
        max(case when field_name = 'industry' then field_value end)                as industry,
        max(case when field_name = 'level' then field_value end)                   as level_value,
        max(case when field_name = 'source' then field_value end)                  as source,
        max(case when field_name = {{ wukong_region_field() }} then field_value end) as region,
        max({{ local_to_utc('create_time') }})                                     as updated_at,
        max(_loaded_at)                                                            as _loaded_at
    from field_values
    group by batch_id
)

select * from final
