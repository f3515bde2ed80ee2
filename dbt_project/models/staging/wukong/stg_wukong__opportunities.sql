-- 悟空CRM's opportunities (wk_crm_business) as the contract's opportunities (docs/sources.md):
-- - is_end 0 open at its status's stage; 1 won; 2 lost with the closing remark as loss reason; 3 (invalid) lost
--   with loss reason 'invalid'. Closed, the stage is won or lost whatever status_id says.
-- - closed_at: when the opportunity was closed, i.e. the latest closing record 悟空CRM wrote for it (a type-3
--   activity about the opportunity saying 赢单, 输单 or 无效; its stage advances write type-3 records too, with other
--   text), else its update_time.
-- - source: its customer's source custom field. Amounts in the one currency CRM_SOURCE_CURRENCY.
with businesses as (
    select * from {{ source('wukong', 'wk_crm_business') }}
),

statuses as (
    select * from {{ source('wukong', 'wk_crm_business_status') }}
),

customers as (
    select * from {{ source('wukong', 'wk_crm_customer') }}
),

customer_fields as (
    select * from {{ ref('base_wukong__customer_fields') }}
),

closing_records as (  -- the newest closing record of each opportunity
    select
        activity_type_id     as business_id,
        max(create_time)     as closed_time,
        max(_loaded_at)      as _loaded_at
    from {{ source('wukong', 'wk_crm_activity') }}
    where type = 3
      and activity_type = 5
      and trim(content) in ('赢单', '输单', '无效')
    group by activity_type_id
),

final as (
    select
        cast(businesses.business_id as bigint)                        as opportunity_id,
        cast(businesses.customer_id as bigint)                        as customer_id,
        cast(businesses.owner_user_id as bigint)                      as owner_user_id,
        cast(businesses.business_name as {{ dbt.type_string() }})         as name,
        cast(customer_fields.source as {{ dbt.type_string() }})           as source,
        cast(case
            when businesses.is_end = 1 then 'won'
            when businesses.is_end in (2, 3) then 'lost'
            else lower(trim(statuses.name))
        end as {{ dbt.type_string() }})                                   as stage,
        cast(businesses.money as decimal(18,2))                       as amount,
        cast('{{ source_currency() }}' as {{ dbt.type_string() }})        as currency,
        cast(businesses.deal_date as date)                            as expected_close_date,
        cast(case businesses.is_end
            when 0 then 'open'
            when 1 then 'won'
            when 2 then 'lost'
            when 3 then 'lost'
        end as {{ dbt.type_string() }})                                   as status,
        cast(case
            when businesses.is_end = 3 then 'invalid'
            when businesses.is_end = 2 then nullif(trim(businesses.status_remark), '')
        end as {{ dbt.type_string() }})                                   as loss_reason,
        {{ local_to_utc('businesses.create_time') }}                  as created_at,
        case when businesses.is_end in (1, 2, 3) then {{ local_to_utc(
            'coalesce(closing_records.closed_time, businesses.update_time, businesses.create_time)') }}
        end                                                           as closed_at,
        coalesce(businesses.status = 3, false)                        as is_deleted,
        greatest(
            {{ wukong_changed_at('businesses') }},
            {{ local_to_utc('closing_records.closed_time') }}
        )                                                             as updated_at,
        cast(businesses._load_id as {{ dbt.type_string() }})              as _load_id,
        greatest(businesses._loaded_at, closing_records._loaded_at)   as _loaded_at
    from businesses
    left join statuses
        on businesses.status_id = statuses.status_id
    left join customers
        on businesses.customer_id = customers.customer_id
    left join customer_fields
        on customers.batch_id = customer_fields.batch_id
    left join closing_records
        on businesses.business_id = closing_records.business_id
)

select * from final
