-- One row per customer that is not deleted: its contracts, what they are worth, what it has paid
-- (historical value) and its customer lifetime value (domain.md §2 "CLV", "repeat purchase"), as of the
-- as-of date. CLV = average contract amount × contracts per customer-year × average customer lifetime in
-- years, with the choices documented on the columns of _customers__models.yml:
--   customer_years   = greatest(days from first_contract_date to the as-of date, 365) / 365
--   contracts_per_year = contracts / customer_years
--   avg_lifetime_years = the mean customer_years of all customers with a contract
with customers as (
    select customer_id
    from {{ ref('dim_customers') }}
),

contracts as (  -- signed on or before the as-of date
    select
        customer_id,
        amount,
        signed_date
    from {{ ref('fct_contracts') }}
    where signed_date <= {{ as_of_date() }}
),

contracts_by_customer as (
    select
        customer_id,
        count(*)         as contracts,
        min(signed_date) as first_contract_date,
        max(signed_date) as last_contract_date,
        sum(amount)      as total_contract_amount
    from contracts
    group by customer_id
),

paid_by_customer as (
    select
        customer_id,
        sum(amount) as total_paid
    from {{ ref('fct_payments') }}
    where paid_date <= {{ as_of_date() }}
    group by customer_id
),

customer_contracts as (
    select
        customers.customer_id,
        coalesce(contracts_by_customer.contracts, 0)             as contracts,
        contracts_by_customer.first_contract_date,
        contracts_by_customer.last_contract_date,
        coalesce(contracts_by_customer.total_contract_amount, 0) as total_contract_amount,
        coalesce(paid_by_customer.total_paid, 0)                 as total_paid,
        case
            when contracts_by_customer.first_contract_date is not null
                then greatest({{ days_between('contracts_by_customer.first_contract_date', as_of_date()) }}, 365)
        end                                                      as customer_days
    from customers
    left join contracts_by_customer
        on customers.customer_id = contracts_by_customer.customer_id
    left join paid_by_customer
        on customers.customer_id = paid_by_customer.customer_id
),

with_rates as (
    select
        *,
        {{ ratio('total_contract_amount', 'contracts') }}                         as avg_contract_amount,
        {{ ratio('customer_days', '365') }}                                       as customer_years,
        {{ ratio('contracts * 365', 'customer_days') }}                           as contracts_per_year,
        {{ ratio('avg(customer_days) over ()', '365') }}                          as avg_lifetime_years
    from customer_contracts
),

final as (
    select
        customer_id,
        cast(contracts as {{ dbt.type_bigint() }})                                as contracts,
        first_contract_date,
        last_contract_date,
        {{ to_money('total_contract_amount') }}                                   as total_contract_amount,
        {{ to_money('total_paid') }}                                              as total_paid,
        {{ to_money('total_paid') }}                                              as historical_value,
        contracts >= 2                                                            as is_repeat,
        {{ to_money('avg_contract_amount') }}                                     as avg_contract_amount,
        customer_years,
        contracts_per_year,
        avg_lifetime_years,
        {{ to_money('avg_contract_amount * contracts_per_year * avg_lifetime_years') }} as clv
    from with_rates
)

select * from final
