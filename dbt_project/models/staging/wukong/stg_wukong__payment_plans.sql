-- 悟空CRM's payment plan installments (wk_crm_receivables_plan) as the contract's payment_plans. A voided installment
-- (received_status 3) counts nowhere: it is left out (the contract's payment_plans has no deleted flag). Plans of a
-- contract that is not approved are kept here and count nowhere downstream (their contract is flagged deleted).
with plans as (
    select * from {{ source('wukong', 'wk_crm_receivables_plan') }}
),

final as (
    select
        cast(receivables_plan_id as bigint)          as plan_id,
        cast(contract_id as bigint)                  as contract_id,
        cast(trim(num) as bigint)                    as installment_no,
        cast(return_date as date)                    as due_date,
        cast(money as decimal(18,2))                 as amount,
        {{ wukong_changed_at() }}                    as updated_at,
        cast(_load_id as {{ dbt.type_string() }})        as _load_id,
        cast(_loaded_at as timestamp)                as _loaded_at
    from plans
    where coalesce(received_status, 0) <> 3
)

select * from final
