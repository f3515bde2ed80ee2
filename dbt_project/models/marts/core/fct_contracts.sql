-- One row per contract that is not deleted, its amount in the reporting currency at signed_date.
with contracts as (
    select * from {{ ref('stg_crm__contracts') }}
    where not is_deleted
),

final as (
    select
        contract_id,
        contract_no,
        customer_id,
        owner_user_id,
        opportunity_id,
        amount,
        amount_original,
        currency,
        signed_date,
        start_date,
        end_date,
        status
    from contracts
)

select * from final
