-- One row per calendar day, from the first month with data (or var calendar_start_date) to the end of the
-- as-of date's month, with its calendar and fiscal year and quarter (domain.md §2 "fiscal calendar").
{%- set earliest_date_sql -%}
    select min(day) from (
        select min(created_date) as day from {{ ref('stg_crm__customers') }}
        union all select min(created_date) from {{ ref('stg_crm__opportunities') }}
        union all select min(changed_date) from {{ ref('stg_crm__opportunity_stage_history') }}
        union all select min(signed_date) from {{ ref('stg_crm__contracts') }}
        union all select min(due_date) from {{ ref('stg_crm__payment_plans') }}
        union all select min(paid_date) from {{ ref('stg_crm__payments') }}
        union all select min(occurred_date) from {{ ref('stg_crm__activities') }}
        union all select min(target_month) from {{ ref('stg_crm__sales_targets') }}
        union all select min(spend_month) from {{ ref('stg_crm__marketing_spend') }}
    ) as first_days
{%- endset -%}
{%- set as_of = as_of_date_string() -%}
{%- set earliest = var('calendar_start_date', '') or query_date_string(earliest_date_sql, as_of) -%}
{#- whole months, and never later than the as-of month -#}
{%- set first_month = [earliest[:7] ~ '-01', as_of[:7] ~ '-01'] | min %}

with days as (
    {{ dbt.date_spine(
        'day',
        date_literal(first_month),
        dbt.dateadd('day', 1, dbt.last_day(as_of_date(), 'month'))
    ) }}
),

calendar_days as (
    select cast(date_day as date) as date_day
    from days
),

final as (
    select
        date_day,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        {{ dbt.last_day('date_day', 'month') }}                 as month_end,
        cast(extract(quarter from date_day) as integer)         as quarter,
        cast(extract(year from date_day) as integer)            as year,
        {{ iso_day_of_week('date_day') }}                       as day_of_week,
        {{ fiscal_year('date_day') }}                           as fiscal_year,
        {{ fiscal_quarter('date_day') }}                        as fiscal_quarter,
        {{ fiscal_quarter_start('date_day') }}                  as fiscal_quarter_start
    from calendar_days
)

select * from final
