-- One row per channel and month of marketing spend, latest version, in the reporting currency at spend_month.
with source as (
    select * from {{ crm_source('marketing_spend') }}
),

typed as (
    select
        cast(lower(trim(channel)) as {{ dbt.type_string() }})  as channel,
        cast(spend_month as date)                              as spend_month,
        cast(amount as decimal(18,2))                          as amount_original,
        cast(upper(trim(currency)) as {{ dbt.type_string() }}) as currency,
        cast(updated_at as timestamp)                          as updated_at,
        cast(_loaded_at as timestamp)                          as loaded_at
    from source
),

with_rate as (  -- domain.md §3: marketing spend converts at spend_month
    select
        typed.*,
        {{ reporting_rate('typed.currency', 'fx.rate_to_reporting') }} as rate_to_reporting
    from typed
    {{ join_fx_rates('fx', 'typed.currency', 'typed.spend_month') }}
),

final as (
    select
        channel,
        spend_month,
        {{ to_reporting_currency('amount_original', 'rate_to_reporting') }} as amount,
        amount_original,
        currency,
        rate_to_reporting,
        updated_at,
        loaded_at
    from with_rate
)

select * from final
