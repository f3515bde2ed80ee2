-- One row per day and rep with anything counted for the rep that day (domain.md §2 "Reps and targets", "the
-- briefing"): customers created, follow-ups made, opportunities created and won, contracts signed and their
-- amount, payments received. Each event is credited to one rep by one rule, written here once:
--   new customer       the customer's (current) owner, on created_date
--   follow-up          the activity's user, on occurred_date
--   new opportunity    the opportunity's (current) owner, on created_date
--   won opportunity    the opportunity's (current) owner, on closed_date
--   contract signed    the contract's owner, on signed_date
--   payment received   the owner of the paid contract, on paid_date
-- An event without an owner stays, on a row whose user_id is null (the day's totals count it, no rep does);
-- an event without a date is left out (it belongs to no day). mart_rep_performance_monthly adds the rows up by
-- rep and month, mart_sales_briefing_daily by day: the leaderboard and the briefing agree by construction.
-- Amounts are decimal(18,2), the facts' type, on every engine (Postgres sums numeric(18,2) into a bare numeric).
-- A table, not a view like most intermediates: both marts read it.
{{ config(materialized='table') }}

with contract_events as (  -- amounts are decimal(18,2), the facts' type (a bare null would be text on Postgres)
    select
        'contract_signed' as event,
        signed_date       as date_day,
        owner_user_id     as user_id,
        amount
    from {{ ref('fct_contracts') }}
),

payment_events as (
    select
        'payment_received' as event,
        paid_date          as date_day,
        owner_user_id      as user_id,
        amount
    from {{ ref('fct_payments') }}
),

customer_events as (
    select
        'new_customer' as event,
        created_date   as date_day,
        owner_user_id  as user_id,
        cast(null as decimal(18,2)) as amount
    from {{ ref('dim_customers') }}
),

follow_up_events as (
    select
        'follow_up'   as event,
        occurred_date as date_day,
        user_id,
        cast(null as decimal(18,2)) as amount
    from {{ ref('fct_activities') }}
),

opportunity_created_events as (
    select
        'new_opportunity' as event,
        created_date      as date_day,
        owner_user_id     as user_id,
        cast(null as decimal(18,2)) as amount
    from {{ ref('fct_opportunities') }}
),

opportunity_won_events as (
    select
        'won_opportunity' as event,
        closed_date       as date_day,
        owner_user_id     as user_id,
        cast(null as decimal(18,2)) as amount
    from {{ ref('fct_opportunities') }}
    where is_won
),

events as (
    select * from contract_events
    union all
    select * from payment_events
    union all
    select * from customer_events
    union all
    select * from follow_up_events
    union all
    select * from opportunity_created_events
    union all
    select * from opportunity_won_events
),

final as (
    select
        date_day,
        user_id,
        count(case when event = 'new_customer' then 1 end)           as new_customers,
        count(case when event = 'follow_up' then 1 end)              as follow_ups,
        count(case when event = 'new_opportunity' then 1 end)        as new_opportunities,
        count(case when event = 'won_opportunity' then 1 end)        as won_opportunities,
        count(case when event = 'contract_signed' then 1 end)        as contracts_signed,
        cast(sum(case when event = 'contract_signed' then amount end) as decimal(18,2))  as contract_amount,
        cast(sum(case when event = 'payment_received' then amount end) as decimal(18,2)) as payment_amount
    from events
    where date_day is not null
    group by date_day, user_id
)

select * from final
