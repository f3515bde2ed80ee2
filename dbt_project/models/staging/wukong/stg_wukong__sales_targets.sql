-- 悟空CRM's yearly targets (wk_crm_achievement) as the contract's monthly sales_targets (docs/sources.md): the rows of a
-- person (type 3; company and department targets are not a rep's quota) unpivoted into one row per person and month
-- of the twelve month columns. A month of 0 (or empty) has no target. The contract-amount row (status 1) and the
-- payment-amount row (status 2) of a person and year merge into one row per month; a month with neither target has
-- no row. Should 悟空CRM hold two rows of one person, year and kind, the newest (highest achievement_id) wins.
-- There is no time on a target: updated_at is when the extract read it (the table is read whole every run).
{%- set months = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september',
                  'october', 'november', 'december'] %}

with person_targets as (
    select
        *,
        row_number() over (
            partition by obj_id, trim(year), status order by achievement_id desc
        ) as version_rank
    from {{ source('wukong', 'wk_crm_achievement') }}
    where type = 3
      and status in (1, 2)
),

monthly as (  -- one row per person, year, kind and month
    {%- for month in months %}
    select
        obj_id,
        status,
        cast({{ dbt.concat(["trim(year)", "'-" ~ '%02d' % loop.index ~ "-01'"]) }} as date) as target_month,
        {{ month }}     as target_amount,
        _load_id,
        _loaded_at
    from person_targets
    where version_rank = 1
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(obj_id as bigint)                                                              as user_id,
        target_month,
        cast(max(case when status = 1 and target_amount <> 0 then target_amount end) as decimal(18,2))
                                                                                            as contract_amount_target,
        cast(max(case when status = 2 and target_amount <> 0 then target_amount end) as decimal(18,2))
                                                                                            as payment_amount_target,
        cast(null as bigint)                                                                as new_customer_target,
        cast(max(_loaded_at) as timestamp)                                                  as updated_at,
        cast(max(_load_id) as {{ dbt.type_string() }})                                          as _load_id,
        cast(max(_loaded_at) as timestamp)                                                  as _loaded_at
    from monthly
    group by obj_id, target_month
    having max(case when target_amount <> 0 then 1 else 0 end) = 1
)

select * from final
