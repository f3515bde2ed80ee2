-- Salesforce's exchange rates as the contract's fx_rates (docs/sources.md): one row per currency and date on which
-- its rate to the reporting currency starts; stg_crm__fx_rates carries each forward until the next one.
-- Salesforce's conversion_rate is units of the currency per unit of the corporate currency (the corporate one's is 1),
-- so rate_to_reporting(C) = conversion_rate(reporting) / conversion_rate(C), each the rate holding that day:
-- - a currency's dated rates (dated_conversion_rate, advanced currency management) hold from start_date until the
--   day before next_start_date; a currency without dated rates has its static rate (currency_type) on every day;
--   the corporate currency is 1 on every day, whatever is synced;
-- - a cross rate changes when either currency's rate does: a row starts at each of both currencies' start dates.
-- Salesforce's first dated rate starts in year 1 and a static rate has no start: a rate starting before the earliest
-- date an amount is converted on (an opportunity's creation or close date, a quota's first month) starts on that date
-- instead, so the daily rates do not span centuries. Currencies Salesforce has no rate for (a single-currency org in another reporting currency) take
-- the rows of the fx_rates file drop (raw.fx_rates), as in the other source systems.
-- Deleted rates and rates that are not positive are left out.
with corporate_currency as (
    select * from {{ ref('base_salesforce__corporate_currency') }}
),

dated as (
    select
        upper(trim(iso_code))                      as currency,
        cast(conversion_rate as decimal(18,8))     as conversion_rate,
        cast(start_date as date)                   as start_date,
        cast(next_start_date as date)              as next_start_date,
        {{ salesforce_synced_at() }} as _fivetran_synced,
        _load_id,
        _loaded_at
    from {{ source('salesforce', 'dated_conversion_rate') }}
    where not {{ salesforce_is_deleted(has_is_deleted=false) }}
      and conversion_rate > 0
),

static as (  -- currencies without dated rates: their one rate on every day
    select
        upper(trim(currency_types.iso_code))                 as currency,
        cast(currency_types.conversion_rate as decimal(18,8)) as conversion_rate,
        cast(null as date)                                    as start_date,
        cast(null as date)                                    as next_start_date,
        {{ salesforce_synced_at('currency_types') }} as _fivetran_synced,
        currency_types._load_id,
        currency_types._loaded_at
    from {{ source('salesforce', 'currency_type') }} as currency_types
    where not {{ salesforce_is_deleted('currency_types', has_is_deleted=false) }}
      and currency_types.conversion_rate > 0
      and upper(trim(currency_types.iso_code)) not in (select dated.currency from dated)
),

corporate as (  -- 1 on every day by definition
    select
        currency,
        cast(1 as decimal(18,8))       as conversion_rate,
        cast(null as date)             as start_date,
        cast(null as date)             as next_start_date,
        cast(null as timestamp)        as _fivetran_synced,
        cast(null as {{ dbt.type_string() }}) as _load_id,
        cast(null as timestamp)        as _loaded_at
    from corporate_currency
),

all_ranges as (
    select * from dated where currency not in (select corporate_currency.currency from corporate_currency)
    union all
    select * from static where currency not in (select corporate_currency.currency from corporate_currency)
    union all
    select * from corporate
),

earliest_day as (  -- the earliest date an amount is converted on
    select coalesce(min(first_day), {{ as_of_date() }}) as first_day
    from (
        select min(cast(close_date as date)) as first_day from {{ source('salesforce', 'opportunity') }}
        union all
        select min(cast(created_date as date)) from {{ source('salesforce', 'opportunity') }}
        union all
        select min({{ to_month_start('start_date') }}) from {{ source('salesforce', 'forecasting_quota') }}
    ) as converted_days
),

ranges as (  -- each rate's first day, not before the earliest day; ranges ended before it never apply
    select
        all_ranges.currency,
        all_ranges.conversion_rate,
        case
            when all_ranges.start_date is null or all_ranges.start_date < earliest_day.first_day
                then earliest_day.first_day
            else all_ranges.start_date
        end                                                    as range_start,
        all_ranges.next_start_date,
        all_ranges._fivetran_synced,
        all_ranges._load_id,
        all_ranges._loaded_at
    from all_ranges
    cross join earliest_day
    where all_ranges.next_start_date is null or all_ranges.next_start_date > earliest_day.first_day
),

reporting_ranges as (
    select * from ranges
    where currency = '{{ reporting_currency() }}'
),

currency_ranges as (
    select * from ranges
    where currency <> '{{ reporting_currency() }}'
),

change_days as (  -- a cross rate changes when either currency's rate does
    select distinct currency, range_start as rate_date from currency_ranges
    union
    select distinct currencies.currency, reporting_ranges.range_start
    from (select distinct currency from currency_ranges) as currencies
    cross join reporting_ranges
),

cross_rates as (
    select
        change_days.currency,
        change_days.rate_date,
        cast(round(
            cast(reporting_ranges.conversion_rate as decimal(18,8)) / currency_ranges.conversion_rate, 8
        ) as decimal(18,8))                                                    as rate_to_reporting,
        greatest(currency_ranges._fivetran_synced, reporting_ranges._fivetran_synced) as updated_at,
        coalesce(currency_ranges._load_id, reporting_ranges._load_id)          as _load_id,
        greatest(currency_ranges._loaded_at, reporting_ranges._loaded_at)      as _loaded_at
    from change_days
    inner join currency_ranges
        on change_days.currency = currency_ranges.currency
        and change_days.rate_date >= currency_ranges.range_start
        and (currency_ranges.next_start_date is null or change_days.rate_date < currency_ranges.next_start_date)
    inner join reporting_ranges
        on change_days.rate_date >= reporting_ranges.range_start
        and (reporting_ranges.next_start_date is null or change_days.rate_date < reporting_ranges.next_start_date)
),

file_drop_rates as (  -- currencies Salesforce has no rate for
    select
        upper(trim(currency))                      as currency,
        cast(rate_date as date)                    as rate_date,
        cast(rate_to_reporting as decimal(18,8))   as rate_to_reporting,
        cast(updated_at as timestamp)              as updated_at,
        cast(_load_id as {{ dbt.type_string() }})  as _load_id,
        cast(_loaded_at as timestamp)              as _loaded_at
    from {{ source('crm', 'fx_rates') }}
    where upper(trim(currency)) not in (select cross_rates.currency from cross_rates)
),

final as (
    select
        cast(currency as {{ dbt.type_string() }})      as currency,
        cast(rate_date as date)                        as rate_date,
        rate_to_reporting,
        cast(updated_at as timestamp)                  as updated_at,
        cast(_load_id as {{ dbt.type_string() }})      as _load_id,
        cast(_loaded_at as timestamp)                  as _loaded_at
    from cross_rates

    union all

    select * from file_drop_rates
)

select * from final
