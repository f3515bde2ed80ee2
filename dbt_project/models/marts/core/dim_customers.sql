-- One row per customer that is not deleted, with the date of its first contract.
with customers as (
    select * from {{ ref('stg_crm__customers') }}
    where not is_deleted
),

first_contracts as (  -- deleted contracts count nowhere, so they do not make a customer a buyer
    select
        customer_id,
        min(signed_date) as first_contract_date
    from {{ ref('stg_crm__contracts') }}
    where not is_deleted
    group by customer_id
),

final as (
    select
        customers.customer_id,
        {{ source_id_column('customer', 'customers.customer_id', 'customer_ids') }} as customer_source_id,
        customers.customer_name,
        customers.industry,
        customers.city,
        customers.province,
        customers.region,
        customers.level,
        customers.source,
        customers.owner_user_id,
        customers.owner_user_id is null        as is_public_pool,
        customers.created_at,
        customers.created_date,
        first_contracts.first_contract_date
    from customers
    left join first_contracts
        on customers.customer_id = first_contracts.customer_id
    {{ source_id_join('customer', 'customers.customer_id', 'customer_ids') }}
)

select * from final
