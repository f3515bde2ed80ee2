-- Salesforce has no signed contract in the sales cloud's core: a won opportunity is the contract (docs/sources.md),
-- one per opportunity, with its key, amount and currency, signed (and starting) on its close date, status active,
-- contract_no its Salesforce id. Every other opportunity (open, lost, or won and then reopened) is kept flagged
-- deleted, so a contract leaves the incremental facts when its opportunity stops being won, like any soft delete.
with opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
),

source_ids as (
    select * from {{ ref('stg_salesforce__source_ids') }}
    where entity = 'opportunity'
),

final as (
    select
        opportunities.opportunity_id                                      as contract_id,
        cast(source_ids.source_id as {{ dbt.type_string() }})             as contract_no,
        opportunities.opportunity_id,
        opportunities.customer_id,
        opportunities.owner_user_id,
        opportunities.amount,
        opportunities.currency,
        opportunities.expected_close_date                                 as signed_date,
        opportunities.expected_close_date                                 as start_date,
        cast(null as date)                                                as end_date,
        cast('active' as {{ dbt.type_string() }})                         as status,
        opportunities.closed_at                                           as created_at,
        opportunities.is_deleted or opportunities.status <> 'won'         as is_deleted,
        opportunities.updated_at,
        opportunities._load_id,
        opportunities._loaded_at
    from opportunities
    left join source_ids
        on opportunities.opportunity_id = source_ids.source_key
)

select * from final
