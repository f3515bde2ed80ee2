-- One row per opportunity that is not deleted: its stage, status and amount in the reporting currency,
-- its dates in the reporting time zone and the days it took to close, and who owned it when it closed.
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
    where not is_deleted
),

stages as (
    select * from {{ ref('dim_stages') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

opportunity_versions as (  -- every version the warehouse's snapshots recorded
    select * from {{ snapshot_history('snap_opportunities', 'stg_crm__opportunities') }}
),

with_status_flags as (
    select
        *,
        coalesce(status = 'won', false)             as is_won,
        coalesce(status = 'lost', false)            as is_lost,
        coalesce(status in ('won', 'lost'), false)  as is_closed
    from opportunities
),

-- The owner in the version in effect at closed_at; when the history starts after the close, the owner in the
-- earliest version the warehouse saw (the best it knows). Null while open.
owner_at_close as (
    select
        opportunity_id,
        owner_user_id
    from (
        select
            opportunity_versions.opportunity_id,
            opportunity_versions.owner_user_id,
            row_number() over (
                partition by opportunity_versions.opportunity_id
                order by
                    case when opportunity_versions.dbt_valid_from <= with_status_flags.closed_at then 0 else 1 end,
                    case when opportunity_versions.dbt_valid_from <= with_status_flags.closed_at
                        then opportunity_versions.dbt_valid_from end desc,
                    opportunity_versions.dbt_valid_from
            ) as closest_to_close_first
        from opportunity_versions
        inner join with_status_flags
            on opportunity_versions.opportunity_id = with_status_flags.opportunity_id
        where with_status_flags.is_closed
    ) as ranked_versions
    where closest_to_close_first = 1
),

final as (
    select
        with_status_flags.opportunity_id,
        {{ source_id_column('opportunity', 'with_status_flags.opportunity_id', 'opportunity_ids') }}
                                                                                       as opportunity_source_id,
        with_status_flags.customer_id,
        with_status_flags.owner_user_id,
        owner_at_close.owner_user_id                                                   as owner_at_close_user_id,
        with_status_flags.opportunity_name,
        with_status_flags.source,
        with_status_flags.stage,
        stages.stage_order,
        stages.win_probability,
        with_status_flags.status,
        with_status_flags.amount,
        with_status_flags.amount_original,
        with_status_flags.currency,
        with_status_flags.rate_to_reporting,
        with_status_flags.expected_close_date,
        with_status_flags.created_at,
        with_status_flags.created_date,
        case when with_status_flags.is_closed then with_status_flags.closed_at end   as closed_at,
        case when with_status_flags.is_closed then with_status_flags.closed_date end as closed_date,
        cast(case
            when with_status_flags.is_closed
                then {{ days_between('with_status_flags.created_date', 'with_status_flags.closed_date') }}
        end as integer)                                                                as days_to_close,
        with_status_flags.loss_reason,
        with_status_flags.is_won,
        with_status_flags.is_lost,
        with_status_flags.is_closed,
        customers.region                                                               as customer_region
    from with_status_flags
    left join stages
        on with_status_flags.stage = stages.stage
    left join customers
        on with_status_flags.customer_id = customers.customer_id
    left join owner_at_close
        on with_status_flags.opportunity_id = owner_at_close.opportunity_id
    {{ source_id_join('opportunity', 'with_status_flags.opportunity_id', 'opportunity_ids') }}
)

select * from final
