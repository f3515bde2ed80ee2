-- dbt.cast to the contracts' text type `varchar` (Spark: spark__cast makes it `string`): the text is kept whole,
-- as dbt's contract check relies on this cast on every engine.
with cases as (
    select {{ dbt.cast("'negotiation — 商务谈判'", 'varchar') }} as actual_text
),

final as (
    select * from cases
)

select * from final
where actual_text <> 'negotiation — 商务谈判'
