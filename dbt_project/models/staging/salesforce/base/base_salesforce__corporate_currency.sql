-- The org's corporate currency, one row: the active currency_type flagged is_corporate; in a single-currency org
-- (currency_type not synced, or empty) CRM_SOURCE_CURRENCY (var source_currency). Amounts without a currency
-- (currency_iso_code null) are in it, and Salesforce's conversion rates are relative to it.
with corporate as (
    select max(upper(trim(iso_code))) as currency
    from {{ source('salesforce', 'currency_type') }}
    where coalesce(is_corporate, false)
      and not {{ salesforce_is_deleted(has_is_deleted=false) }}
),

final as (
    select
        cast(coalesce(corporate.currency, '{{ source_currency() }}') as {{ dbt.type_string() }}) as currency
    from corporate
)

select * from final
