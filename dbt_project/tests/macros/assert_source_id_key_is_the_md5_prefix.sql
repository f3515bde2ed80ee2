-- source_id_key (dispatched: a hex cast on DuckDB, bit(64) on Postgres, conv on Spark): a Salesforce id's key is the
-- first 15 hex digits of md5(id) as a number. md5('0065g00000AbCdEAAV') starts a50b7c7cce6803a = 743296007280164922;
-- md5('0015g00000XyZ12AAB') starts e66a41995296cb4 = 1037697193939135668 (a leading e: still positive, 60 bits);
-- surrounding spaces are trimmed; an empty id and a null are no key.
with cases as (
    select 1 as case_id, {{ source_id_key("'0065g00000AbCdEAAV'") }} as actual_key,
           cast(743296007280164922 as bigint) as expected_key
    union all
    select 2, {{ source_id_key("'0015g00000XyZ12AAB'") }}, cast(1037697193939135668 as bigint)
    union all
    select 3, {{ source_id_key("' 0065g00000AbCdEAAV '") }}, cast(743296007280164922 as bigint)
    union all
    select 4, {{ source_id_key("''") }}, cast(null as bigint)
    union all
    select 5, {{ source_id_key("cast(null as " ~ dbt.type_string() ~ ")") }}, cast(null as bigint)
),

final as (
    select * from cases
)

select * from final
where (actual_key is null) <> (expected_key is null)
   or actual_key <> expected_key
