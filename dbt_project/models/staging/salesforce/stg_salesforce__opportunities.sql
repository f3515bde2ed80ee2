-- Salesforce's opportunities (opportunity) as the contract's opportunities (docs/sources.md):
-- - status from the stage's flags as Salesforce copies them onto the opportunity: won when is_won, lost when
--   is_closed and not is_won, else open; stage = stage_name, lower-cased and trimmed (as the catalogue's).
-- - closed_at: the close date at 00:00 UTC, closed opportunities only (Salesforce books a deal on its close date).
-- - currency: currency_iso_code, else the corporate currency (a single-currency org syncs none).
-- - loss_reason: lost only, the column named by CRM_SALESFORCE_LOSS_REASON_FIELD; none when unset.
-- A deleted opportunity (is_deleted or _fivetran_deleted) is kept flagged deleted: it counts nowhere.
{%- set loss_reason_field = salesforce_loss_reason_field() %}

with opportunities as (
    select * from {{ source('salesforce', 'opportunity') }}
),

corporate_currency as (
    select * from {{ ref('base_salesforce__corporate_currency') }}
),

with_status as (
    select
        opportunities.*,
        case
            when coalesce(opportunities.is_won, false) then 'won'
            when coalesce(opportunities.is_closed, false) then 'lost'
            else 'open'
        end as opportunity_status
    from opportunities
),

final as (
    select
        {{ source_id_key('with_status.id') }}                                        as opportunity_id,
        {{ source_id_key('with_status.account_id') }}                                as customer_id,
        {{ source_id_key('with_status.owner_id') }}                                  as owner_user_id,
        cast(with_status.name as {{ dbt.type_string() }})                            as name,
        cast(nullif(trim(with_status.lead_source), '') as {{ dbt.type_string() }})   as source,
        cast(lower(trim(with_status.stage_name)) as {{ dbt.type_string() }})         as stage,
        cast(with_status.amount as decimal(18,2))                                    as amount,
        cast(coalesce(
            nullif(upper(trim(with_status.currency_iso_code)), ''), corporate_currency.currency
        ) as {{ dbt.type_string() }})                                                as currency,
        cast(with_status.close_date as date)                                         as expected_close_date,
        cast(with_status.opportunity_status as {{ dbt.type_string() }})              as status,
        cast(
            {%- if loss_reason_field %}
            case when with_status.opportunity_status = 'lost'
                then nullif(trim(cast(with_status.{{ loss_reason_field }} as {{ dbt.type_string() }})), '') end
            {%- else %}
            null
            {%- endif %}
        as {{ dbt.type_string() }})                                                  as loss_reason,
        cast(with_status.created_date as timestamp)                                  as created_at,
        case when with_status.opportunity_status in ('won', 'lost')
            then {{ salesforce_date_start('with_status.close_date') }}
        end                                                                          as closed_at,
        {{ salesforce_is_deleted('with_status') }}                                   as is_deleted,
        cast({{ salesforce_synced_at('with_status') }} as timestamp)                              as updated_at,
        cast(with_status._load_id as {{ dbt.type_string() }})                        as _load_id,
        cast(with_status._loaded_at as timestamp)                                    as _loaded_at
    from with_status
    cross join corporate_currency
)

select * from final
