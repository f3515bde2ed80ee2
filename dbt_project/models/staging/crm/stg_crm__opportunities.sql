-- One row per opportunity, latest version, with its amount in the reporting currency;
-- deleted opportunities kept and flagged.
with source as (
    select * from {{ crm_source('opportunities') }}
),

typed as (
    select
        cast(opportunity_id as bigint)                       as opportunity_id,
        cast(customer_id as bigint)                          as customer_id,
        cast(owner_user_id as bigint)                        as owner_user_id,
        cast(trim(name) as {{ dbt.type_string() }})          as opportunity_name,
        cast(lower(trim(source)) as {{ dbt.type_string() }}) as source,
        cast(lower(trim(stage)) as {{ dbt.type_string() }})  as stage,
        cast(lower(trim(status)) as {{ dbt.type_string() }}) as status,
        cast(amount as decimal(18,2))                        as amount_original,
        cast(upper(trim(currency)) as {{ dbt.type_string() }}) as currency,
        cast(expected_close_date as date)                    as expected_close_date,
        cast(trim(loss_reason) as {{ dbt.type_string() }})   as loss_reason,
        cast(created_at as timestamp)                        as created_at,
        {{ to_reporting_date('created_at') }}                as created_date,
        cast(closed_at as timestamp)                         as closed_at,
        {{ to_reporting_date('closed_at') }}                 as closed_date,
        coalesce(cast(is_deleted as boolean), false)         as is_deleted,
        cast(updated_at as timestamp)                        as updated_at,
        cast(_loaded_at as timestamp)                        as loaded_at
    from source
),

with_conversion_date as (  -- domain.md §3: closed_at's date once closed, the as-of date while open
    select
        *,
        case
            when status in ('won', 'lost') then closed_date
            else {{ as_of_date() }}
        end as conversion_date
    from typed
),

with_rate as (
    select
        with_conversion_date.*,
        {{ reporting_rate('with_conversion_date.currency', 'fx.rate_to_reporting') }} as rate_to_reporting
    from with_conversion_date
    {{ join_fx_rates('fx', 'with_conversion_date.currency', 'with_conversion_date.conversion_date') }}
),

final as (
    select
        opportunity_id,
        customer_id,
        owner_user_id,
        opportunity_name,
        source,
        stage,
        status,
        {{ to_reporting_currency('amount_original', 'rate_to_reporting') }} as amount,
        amount_original,
        currency,
        conversion_date,
        rate_to_reporting,
        expected_close_date,
        loss_reason,
        created_at,
        created_date,
        closed_at,
        closed_date,
        is_deleted,
        updated_at,
        loaded_at,
        -- the time of the query: snap_opportunities keeps it as the time the run recorded each version, which
        -- dates the first snapshot (loaded_at does not: a re-read row is stamped again by every merge)
        cast({{ dbt.current_timestamp() }} as timestamp) as recorded_at
    from with_rate
)

select * from final
