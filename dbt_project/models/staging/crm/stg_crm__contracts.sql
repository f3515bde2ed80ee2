-- One row per contract, latest version, with its amount in the reporting currency at signed_date;
-- deleted contracts kept and flagged.
with source as (
    select * from {{ crm_source('contracts') }}
),

typed as (
    select
        cast(contract_id as bigint)                            as contract_id,
        cast(trim(contract_no) as {{ dbt.type_string() }})     as contract_no,
        cast(opportunity_id as bigint)                         as opportunity_id,
        cast(customer_id as bigint)                            as customer_id,
        cast(owner_user_id as bigint)                          as owner_user_id,
        cast(amount as decimal(18,2))                          as amount_original,
        cast(upper(trim(currency)) as {{ dbt.type_string() }}) as currency,
        cast(signed_date as date)                              as signed_date,
        cast(start_date as date)                               as start_date,
        cast(end_date as date)                                 as end_date,
        cast(lower(trim(status)) as {{ dbt.type_string() }})   as status,
        cast(created_at as timestamp)                          as created_at,
        {{ to_reporting_date('created_at') }}                  as created_date,
        coalesce(cast(is_deleted as boolean), false)           as is_deleted,
        cast(updated_at as timestamp)                          as updated_at,
        cast(_loaded_at as timestamp)                          as loaded_at
    from source
),

with_rate as (  -- domain.md §3: a contract converts at its signed_date
    select
        typed.*,
        {{ reporting_rate('typed.currency', 'fx.rate_to_reporting') }} as rate_to_reporting
    from typed
    {{ join_fx_rates('fx', 'typed.currency', 'typed.signed_date') }}
),

final as (
    select
        contract_id,
        contract_no,
        opportunity_id,
        customer_id,
        owner_user_id,
        {{ to_reporting_currency('amount_original', 'rate_to_reporting') }} as amount,
        amount_original,
        currency,
        rate_to_reporting,
        signed_date,
        start_date,
        end_date,
        status,
        created_at,
        created_date,
        is_deleted,
        updated_at,
        loaded_at
    from with_rate
)

select * from final
