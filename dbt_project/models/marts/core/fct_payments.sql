-- One row per payment received that is not deleted, on a contract that is not deleted: credited to the
-- contract's customer and owner, converted at paid_date in the contract's currency.
-- Incremental: each build takes the payments whose payment, contract or fx rate row was loaded after the newest
-- row the table holds (delete+insert on payment_id); pre-hooks first remove the rows whose payment or
-- contract is no longer live (soft-deleted since), which delete+insert alone cannot do.
{{ config(
    materialized=fact_materialization(),
    unique_key='payment_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ delete_rows_no_longer_live('payment_id', ref('stg_crm__payments')) }}",
        "{{ delete_rows_no_longer_live('contract_id', ref('stg_crm__contracts')) }}",
    ],
) }}

with payments as (
    select * from {{ ref('stg_crm__payments') }}
    where not is_deleted
),

contracts as (  -- not deleted: payments of a deleted or unknown contract count nowhere
    select * from {{ ref('stg_crm__contracts') }}
    where not is_deleted
),

payments_with_rate as (
    select
        payments.payment_id,
        payments.contract_id,
        payments.plan_id,
        contracts.customer_id,
        contracts.owner_user_id,
        payments.amount_original,
        contracts.currency,
        {{ reporting_rate('contracts.currency', 'fx.rate_to_reporting') }} as rate_to_reporting,
        payments.paid_date,
        payments.method,
        greatest(
            payments.loaded_at,
            contracts.loaded_at,
            coalesce(fx.loaded_at, payments.loaded_at)
        )                                                                  as loaded_at
    from payments
    inner join contracts
        on payments.contract_id = contracts.contract_id
    {{ join_fx_rates('fx', 'contracts.currency', 'payments.paid_date') }}
),

new_or_changed as (
    select * from payments_with_rate
    where {{ loaded_after_last_build('loaded_at') }}
),

final as (
    select
        payment_id,
        contract_id,
        plan_id,
        customer_id,
        owner_user_id,
        {{ to_reporting_currency('amount_original', 'rate_to_reporting') }} as amount,
        amount_original,
        currency,
        paid_date,
        method,
        loaded_at
    from new_or_changed
)

select * from final
