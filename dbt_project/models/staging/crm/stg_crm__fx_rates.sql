-- One row per currency and day, from the currency's first rate to the as-of date: the rate to the reporting
-- currency in effect that day, i.e. the latest fx_rates row on or before it (forward-filled), so that a model
-- converts with a plain left join on (currency, date_day) (macro join_fx_rates).
-- The reporting currency itself has no rows: reporting_rate() gives it 1 whatever the table says.
{{ config(materialized='table') }}

{%- set first_rate_date = query_date_string(
    "select min(cast(rate_date as date)) from " ~ crm_source('fx_rates')
    ~ " where rate_to_reporting is not null and cast(rate_date as date) <= " ~ as_of_date(),
    as_of_date_string()
) %}

with source as (
    select * from {{ crm_source('fx_rates') }}
),

normalized as (  -- ' usd' and 'USD' are the same currency, so dedupe on the cleaned key
    select
        cast(upper(trim(currency)) as {{ dbt.type_string() }}) as currency,
        cast(rate_date as date)                                as rate_date,
        cast(rate_to_reporting as decimal(18,8))               as rate_to_reporting,
        updated_at,
        _loaded_at
    from source
),

latest as (  -- a row can arrive more than once; keep the last version
    {{ dedupe('normalized', ['currency', 'rate_date']) }}
),

rates as (  -- rates known on the as-of date; a row without a rate carries none
    select
        currency,
        rate_date,
        rate_to_reporting,
        cast(_loaded_at as timestamp) as loaded_at
    from latest
    where rate_to_reporting is not null
      and rate_date <= {{ as_of_date() }}
      and currency <> '{{ reporting_currency() }}'
),

days as (
    {{ dbt.date_spine('day', date_literal(first_rate_date), dbt.dateadd('day', 1, as_of_date())) }}
),

currencies as (
    select
        currency,
        min(rate_date) as first_rate_date
    from rates
    group by currency
),

currency_days as (
    select
        currencies.currency,
        cast(days.date_day as date) as date_day
    from currencies
    inner join days
        on cast(days.date_day as date) >= currencies.first_rate_date
),

numbered_runs as (  -- rate_run counts the rate rows so far: the days of one run share the same rate row
    select
        currency_days.currency,
        currency_days.date_day,
        rates.rate_date,
        rates.rate_to_reporting,
        rates.loaded_at,
        count(rates.rate_date) over (
            partition by currency_days.currency
            order by currency_days.date_day
            rows between unbounded preceding and current row
        ) as rate_run
    from currency_days
    left join rates
        on rates.currency = currency_days.currency
        and rates.rate_date = currency_days.date_day
),

final as (
    select
        currency,
        date_day,
        max(rate_to_reporting) over (partition by currency, rate_run) as rate_to_reporting,
        max(rate_date) over (partition by currency, rate_run)         as rate_date,
        max(loaded_at) over (partition by currency, rate_run)         as loaded_at
    from numbered_runs
)

select * from final
