-- 悟空CRM's customers (wk_crm_customer) with their custom fields as the contract's customers: industry, level,
-- source and region from the custom-field rows of the customer's batch_id, the level's letter before its bracket,
-- province and city from the address. Deleted when status is 3.
with customers as (
    select * from {{ source('wukong', 'wk_crm_customer') }}
),

customer_fields as (
    select * from {{ ref('base_wukong__customer_fields') }}
),

final as (
    select
        cast(customers.customer_id as bigint)                                  as customer_id,
        cast(customers.customer_name as {{ dbt.type_string() }})                   as name,
        cast(customer_fields.industry as {{ dbt.type_string() }})                  as industry,
        cast(nullif(trim({{ dbt.split_part('customers.address', "','", 2) }}), '') as {{ dbt.type_string() }}) as city,
        cast(nullif(trim({{ dbt.split_part('customers.address', "','", 1) }}), '') as {{ dbt.type_string() }}) as province,
        cast(customer_fields.region as {{ dbt.type_string() }})                    as region,
        -- 'A（重点客户）' → 'A': the letter before the bracket (full-width, or an ASCII one typed instead)
        cast(nullif(trim({{ dbt.split_part(dbt.split_part('customer_fields.level_value', "'（'", 1), "'('", 1) }}), '')
            as {{ dbt.type_string() }})                                            as level,
        cast(customer_fields.source as {{ dbt.type_string() }})                    as source,
        {{ zero_as_null('customers.owner_user_id') }}                          as owner_user_id,
        {{ local_to_utc('customers.create_time') }}                            as created_at,
        coalesce(customers.status = 3, false)                                  as is_deleted,
        greatest({{ wukong_changed_at('customers') }}, customer_fields.updated_at) as updated_at,
        cast(customers._load_id as {{ dbt.type_string() }})                        as _load_id,
        greatest(customers._loaded_at, customer_fields._loaded_at)             as _loaded_at
    from customers
    left join customer_fields
        on customers.batch_id = customer_fields.batch_id
)

select * from final
