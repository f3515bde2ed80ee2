-- One row per month, rep and product with survey responses (满意度, domain.md §2 "satisfaction"): how many
-- ratings and their mean score. A survey without a product (or rep) has product_id (user_id) null. Scores
-- outside 1 to 5 are not ratings and count nowhere. score_sum lets a reader re-aggregate
-- (by rep: sum(score_sum) / sum(responses)).
with surveys as (
    select
        {{ to_month_start('surveyed_date') }} as month_start,
        user_id,
        product_id,
        score
    from {{ ref('stg_crm__satisfaction_surveys') }}
    where surveyed_date is not null
      and score between 1 and 5
),

final as (
    select
        month_start,
        user_id,
        product_id,
        cast(count(*) as {{ dbt.type_bigint() }})           as responses,
        cast(sum(score) as {{ dbt.type_bigint() }})         as score_sum,
        {{ ratio('sum(score)', 'count(*)') }}               as avg_score
    from surveys
    group by month_start, user_id, product_id
)

select * from final
