-- Salesforce's quotas (forecasting_quota, when synced) as the contract's monthly sales_targets: user = the quota's
-- owner, target_month = the month of its start_date, contract_amount_target = quota_amount, converted from the
-- quota's currency (else the corporate currency) to the reporting currency at the rate of the month's first day
-- (targets are in the reporting currency). A quarterly or yearly quota therefore lands whole in its first month.
-- Payment and new-customer targets: none (Salesforce quotas are revenue). Two quotas of one owner and month (e.g.
-- two forecast types): the most recently synced one wins (then the highest id). Deleted quotas are left out; without
-- forecasting_quota the table is empty and so are the target columns.
with quotas as (
    select
        *,
        {{ to_month_start('start_date') }} as quota_month
    from {{ source('salesforce', 'forecasting_quota') }}
    where not {{ salesforce_is_deleted(has_is_deleted=false) }}
      and quota_owner_id is not null
      and start_date is not null
),

latest as (
    select
        *,
        row_number() over (
            partition by quota_owner_id, quota_month order by {{ salesforce_synced_at() }} desc, id desc
        ) as version_rank
    from quotas
),

corporate_currency as (
    select * from {{ ref('base_salesforce__corporate_currency') }}
),

with_currency as (
    select
        latest.*,
        coalesce(nullif(upper(trim(latest.currency_iso_code)), ''), corporate_currency.currency) as quota_currency
    from latest
    cross join corporate_currency
    where latest.version_rank = 1
),

with_rate as (
    select
        with_currency.*,
        {{ reporting_rate('with_currency.quota_currency', 'fx.rate_to_reporting') }} as rate_to_reporting
    from with_currency
    {{ join_fx_rates('fx', 'with_currency.quota_currency', 'with_currency.quota_month') }}
),

final as (
    select
        {{ source_id_key('quota_owner_id') }}                                as user_id,
        cast(quota_month as date)                                            as target_month,
        {{ to_reporting_currency('quota_amount', 'rate_to_reporting') }}     as contract_amount_target,
        cast(null as decimal(18,2))                                          as payment_amount_target,
        cast(null as bigint)                                                 as new_customer_target,
        cast({{ salesforce_synced_at() }} as timestamp)                                  as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                            as _load_id,
        cast(_loaded_at as timestamp)                                        as _loaded_at
    from with_rate
)

select * from final
