-- 悟空CRM's contracts (wk_crm_contract) as the contract's contracts. Only an approved contract (check_status 1 or 10)
-- is signed: every other one (pending, rejected, in review, withdrawn, not submitted, created, deleted, voided) is
-- kept flagged deleted, so it counts nowhere and leaves the facts when its state changes. Dates are 悟空CRM's
-- calendar dates as entered (no zone shift). Amounts in the one currency CRM_SOURCE_CURRENCY.
with contracts as (
    select * from {{ source('wukong', 'wk_crm_contract') }}
),

final as (
    select
        cast(contract_id as bigint)                        as contract_id,
        cast(num as {{ dbt.type_string() }})                   as contract_no,
        {{ zero_as_null('business_id') }}                  as opportunity_id,
        cast(customer_id as bigint)                        as customer_id,
        cast(owner_user_id as bigint)                      as owner_user_id,
        cast(money as decimal(18,2))                       as amount,
        cast('{{ source_currency() }}' as {{ dbt.type_string() }}) as currency,
        cast(order_date as date)                           as signed_date,
        cast(start_time as date)                           as start_date,
        cast(end_time as date)                             as end_date,
        cast('active' as {{ dbt.type_string() }})              as status,
        {{ local_to_utc('create_time') }}                  as created_at,
        not {{ wukong_is_approved('check_status') }}       as is_deleted,
        {{ wukong_changed_at() }}                          as updated_at,
        cast(_load_id as {{ dbt.type_string() }})              as _load_id,
        cast(_loaded_at as timestamp)                      as _loaded_at
    from contracts
)

select * from final
