-- 悟空CRM's payments received (wk_crm_receivables) as the contract's payments. Only an approved payment (check_status
-- 1 or 10) counts; the others are kept flagged deleted. method is the payment type as 悟空CRM writes it.
with payments as (
    select * from {{ source('wukong', 'wk_crm_receivables') }}
),

final as (
    select
        cast(receivables_id as bigint)                     as payment_id,
        cast(contract_id as bigint)                        as contract_id,
        {{ zero_as_null('receivables_plan_id') }}          as plan_id,
        cast(money as decimal(18,2))                       as amount,
        cast(return_time as date)                          as paid_date,
        cast(return_type as {{ dbt.type_string() }})           as method,
        not {{ wukong_is_approved('check_status') }}       as is_deleted,
        {{ wukong_changed_at() }}                          as updated_at,
        cast(_load_id as {{ dbt.type_string() }})              as _load_id,
        cast(_loaded_at as timestamp)                      as _loaded_at
    from payments
)

select * from final
