-- One row per opportunity open at the as-of date, past due or not (domain.md §2 "past due", "close-date
-- push"): how many days it is past its expected close date, and, from the warehouse's snapshot history
-- (snap_opportunities), how many times that date was pushed later and the first one the history saw.
-- A push is seen between two consecutive versions of the row: several changes between two runs leave only
-- the last version (snapshots/_snapshots.yml), so a date pushed twice between two runs counts once.
{%- set as_of = as_of_date() %}

with open_opportunities as (  -- created by the as-of date and not closed by it
    select
        opportunity_id,
        customer_id,
        owner_user_id,
        stage,
        amount,
        expected_close_date
    from {{ ref('fct_opportunities') }}
    where created_date <= {{ as_of }}
      and (closed_date is null or closed_date > {{ as_of }})
),

versions as (  -- every version the snapshots recorded, in order
    select
        opportunity_id,
        expected_close_date,
        lag(expected_close_date) over (partition by opportunity_id order by dbt_valid_from) as previous_expected_close_date,
        row_number() over (partition by opportunity_id order by dbt_valid_from)            as version_number
    from {{ snapshot_history('snap_opportunities', 'stg_crm__opportunities') }}
),

close_date_history as (
    select
        opportunity_id,
        count(case when expected_close_date > previous_expected_close_date then 1 end) as close_date_pushes,
        max(case when version_number = 1 then expected_close_date end)                 as first_seen_expected_close_date,
        count(*)                                                                        as versions
    from versions
    group by opportunity_id
),

final as (
    select
        open_opportunities.opportunity_id,
        open_opportunities.customer_id,
        open_opportunities.owner_user_id,
        open_opportunities.stage,
        open_opportunities.amount,
        open_opportunities.expected_close_date,
        coalesce(open_opportunities.expected_close_date < {{ as_of }}, false) as is_past_due,
        cast(case
            when open_opportunities.expected_close_date < {{ as_of }}
                then {{ days_between('open_opportunities.expected_close_date', as_of) }}
            else 0
        end as integer)                                                        as days_past_due,
        cast(coalesce(close_date_history.close_date_pushes, 0) as {{ dbt.type_bigint() }}) as close_date_pushes,
        case
            when close_date_history.versions is null then open_opportunities.expected_close_date
            else close_date_history.first_seen_expected_close_date
        end                                                                    as first_seen_expected_close_date
    from open_opportunities
    left join close_date_history
        on open_opportunities.opportunity_id = close_date_history.opportunity_id
)

select * from final
