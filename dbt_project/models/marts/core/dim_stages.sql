-- One row per sales stage, from the stage catalogue seed (the only place stages are defined).
with catalogue as (
    select * from {{ stage_catalogue() }}
),

final as (
    select
        cast(lower(trim(stage)) as {{ dbt.type_string() }}) as stage,
        cast(stage_order as integer)                       as stage_order,
        cast(win_probability as decimal(5,4))              as win_probability,
        coalesce(cast(is_closed as boolean), false)        as is_closed,
        coalesce(cast(is_won as boolean), false)           as is_won,
        coalesce(cast(is_lost as boolean), false)          as is_lost,
        -- the funnel (domain.md §2): the open and won stages with an order; lost is not a funnel stage
        coalesce(
            (not cast(is_closed as boolean) or cast(is_won as boolean)) and stage_order is not null,
            false
        )                                                  as is_funnel_stage,
        cast(label_zh as {{ dbt.type_string() }})          as label_zh
    from catalogue
)

select * from final
