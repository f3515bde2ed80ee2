-- One row per forgotten customer as of the as-of date (客户遗忘提醒, domain.md §2 "forgotten customer"): an
-- owned, not-deleted customer whose last activity is more than N days before the as-of date
-- (days_since_activity > N, var forgotten_customer_days, default 30), or who has no activity at all.
-- Activities after the as-of date and customers created after it are not seen.
with customers as (
    select
        customer_id,
        customer_name,
        owner_user_id,
        created_date
    from {{ ref('dim_customers') }}
    where owner_user_id is not null
      and (created_date is null or created_date <= {{ as_of_date() }})
),

last_activities as (
    select
        customer_id,
        max(occurred_at)   as last_activity_at,
        max(occurred_date) as last_activity_date
    from {{ ref('fct_activities') }}
    where customer_id is not null
      and occurred_date <= {{ as_of_date() }}
    group by customer_id
),

customer_activity as (
    select
        customers.customer_id,
        customers.customer_name,
        customers.owner_user_id,
        last_activities.last_activity_at,
        last_activities.last_activity_date,
        {{ days_between('last_activities.last_activity_date', as_of_date()) }} as days_since_activity
    from customers
    left join last_activities
        on customers.customer_id = last_activities.customer_id
),

final as (
    select
        customer_id,
        customer_name,
        owner_user_id,
        last_activity_at,
        last_activity_date,
        cast(days_since_activity as {{ dbt.type_int() }}) as days_since_activity,
        {{ as_of_date() }}                                 as as_of_date
    from customer_activity
    where days_since_activity is null
       or days_since_activity > {{ var('forgotten_customer_days', 30) }}
)

select * from final
