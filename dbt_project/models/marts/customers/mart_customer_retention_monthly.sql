-- One row per month, from the month of the first contract to the as-of month: the customers who signed a
-- contract in the month, how many of the previous month's did so again (domain.md §2 "retention rate"), and
-- the repeat purchase rate counting the contracts signed up to the month's end (domain.md §2 "repeat
-- purchase rate").
with contracts as (
    select
        customer_id,
        signed_date,
        {{ to_month_start('signed_date') }} as month_start
    from {{ ref('fct_contracts') }}
    where customer_id is not null
      and signed_date is not null
      and signed_date <= {{ as_of_date() }}
),

months as (
    select distinct
        month_start,
        month_end
    from {{ ref('dim_date') }}
    where month_start >= (select min(contracts.month_start) from contracts)
      and month_start <= {{ to_month_start(as_of_date()) }}
),

active_customer_months as (  -- a customer with a contract signed in the month
    select distinct
        customer_id,
        month_start
    from contracts
),

active_by_month as (
    select
        month_start,
        count(*) as active_customers
    from active_customer_months
    group by month_start
),

retained_by_month as (  -- active in the month and in the month before
    select
        this_month.month_start,
        count(*) as retained_customers
    from active_customer_months as this_month
    inner join active_customer_months as previous_month
        on this_month.customer_id = previous_month.customer_id
       and previous_month.month_start = {{ to_month_start(dbt.dateadd('month', -1, 'this_month.month_start')) }}
    group by this_month.month_start
),

contracts_to_month_end as (  -- per customer, the contracts signed up to each month's end
    select
        months.month_start,
        contracts.customer_id,
        count(*) as contracts_so_far
    from months
    inner join contracts
        on months.month_end >= contracts.signed_date
    group by months.month_start, contracts.customer_id
),

repeat_by_month as (
    select
        month_start,
        count(*)                                        as buying_customers_to_date,
        count(case when contracts_so_far >= 2 then 1 end) as repeat_customers_to_date
    from contracts_to_month_end
    group by month_start
),

monthly as (
    select
        months.month_start,
        coalesce(active_by_month.active_customers, 0)     as active_customers,
        coalesce(retained_by_month.retained_customers, 0) as retained_customers,
        coalesce(repeat_by_month.buying_customers_to_date, 0) as buying_customers_to_date,
        coalesce(repeat_by_month.repeat_customers_to_date, 0) as repeat_customers_to_date
    from months
    left join active_by_month
        on months.month_start = active_by_month.month_start
    left join retained_by_month
        on months.month_start = retained_by_month.month_start
    left join repeat_by_month
        on months.month_start = repeat_by_month.month_start
),

with_previous as (
    select
        *,
        coalesce(lag(active_customers) over (order by month_start), 0) as previous_active_customers
    from monthly
),

final as (
    select
        month_start,
        cast(active_customers as {{ dbt.type_bigint() }})          as active_customers,
        cast(previous_active_customers as {{ dbt.type_bigint() }}) as previous_active_customers,
        cast(retained_customers as {{ dbt.type_bigint() }})        as retained_customers,
        {{ ratio('retained_customers', 'previous_active_customers') }} as retention_rate,
        cast(buying_customers_to_date as {{ dbt.type_bigint() }})  as buying_customers_to_date,
        cast(repeat_customers_to_date as {{ dbt.type_bigint() }})  as repeat_customers_to_date,
        {{ ratio('repeat_customers_to_date', 'buying_customers_to_date') }} as repeat_purchase_rate
    from with_previous
)

select * from final
