-- to_reporting_currency: the exact product, rounded to cents once, on every engine.
-- 218693.66 × 0.13843961 = 30275.8649998726 → 30275.86 (a product first rounded to 6 decimals, 30275.865000,
-- would give 30275.87: Spark did that to a decimal(38,10) × decimal(18,8) product).
-- 1,000,000,000.00 × 7.12345678 = 7,123,456,780.00 (a large amount does not overflow); a line amount with 8
-- decimals, 1234.56789012 × 0.5 = 617.28394506 → 617.28.
with cases as (
    select 1 as case_id, cast(218693.66 as decimal(20,8)) as amount, cast(0.13843961 as decimal(18,8)) as rate,
           cast(30275.86 as decimal(18,2)) as expected_amount
    union all select 2, 1000000000.00, 7.12345678, 7123456780.00
    union all select 3, 1234.56789012, 0.5, 617.28
),

final as (
    select
        case_id,
        {{ to_reporting_currency('amount', 'rate') }} as actual_amount,
        expected_amount
    from cases
)

select * from final
where actual_amount is distinct from expected_amount
