-- One row per contract that is not deleted, its amount in the reporting currency at signed_date.
-- Incremental: each build takes the contracts whose contract or fx rate row was loaded after the newest row the
-- table holds (delete+insert on contract_id); a pre-hook first removes the contracts soft-deleted since, which
-- delete+insert alone cannot do.
{{ config(
    materialized=fact_materialization(),
    unique_key='contract_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rows_no_longer_live('contract_id', ref('stg_crm__contracts')) }}",
) }}

with contracts as (
    select * from {{ ref('stg_crm__contracts') }}
    where not is_deleted
),

contracts_with_rate_load as (  -- the fx row that converted the contract can arrive after the contract
    select
        contracts.*,
        greatest(contracts.loaded_at, coalesce(fx.loaded_at, contracts.loaded_at)) as last_loaded_at
    from contracts
    {{ join_fx_rates('fx', 'contracts.currency', 'contracts.signed_date') }}
),

new_or_changed as (
    select * from contracts_with_rate_load
    where {{ loaded_after_last_build('last_loaded_at') }}
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
        status,
        last_loaded_at as loaded_at
    from new_or_changed
)

select * from final
