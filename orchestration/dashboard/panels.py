"""The dashboard's panels, in the order of the sales articles, each drawn from the published marts.

Each function reads one or two marts (read-only) and returns a Panel. Point-in-time panels (the briefing,
targets, rankings) show the newest day or month the marts hold, which is the pipeline's as-of date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import duckdb
from matplotlib.ticker import MaxNLocator

from orchestration.dashboard.panel import Headline, Panel, Table, count, day, days, money, new_figure, rate, thousands

AGING_BUCKETS = ["current", "1-30", "31-60", "61-90", "90+"]
PROFILE_DIMENSIONS = ["city", "industry", "level", "source"]
CYCLE_DIMENSIONS = ["rep", "region", "product"]
TOP = 10  # bars per chart where a dimension has many values
# Reps charted against their targets; the table below the chart lists every rep. A bar per rep of a large
# sales team is unreadable (and drawing a thousand labelled bars was most of the dashboard's time at 1M
# opportunities: docs/benchmarks.md).
REPS_CHARTED = 25
MONTHS_SHOWN = 12
# The pipeline's as-of date, as the published marts record it: monthly marts also hold future months
# (targets set ahead, installments not yet due), which the point-in-time panels leave out.
AS_OF_DATE = "(select max(date_day) from marts.mart_sales_briefing_daily)"


def records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def briefing(con: duckdb.DuckDBPyConnection) -> Panel:
    month = records(
        con,
        """
        select * from marts.mart_sales_briefing_daily
        where month_start = (select month_start from marts.mart_sales_briefing_daily order by date_day desc limit 1)
        order by date_day
    """,
    )
    today = month[-1] if month else {}
    headlines = [
        Headline("New customers today", "new_customers", count(today.get("new_customers"))),
        Headline("New contacts today", "new_contacts", count(today.get("new_contacts"))),
        Headline("New opportunities today", "new_opportunities", count(today.get("new_opportunities"))),
        Headline("Contract amount today", "contract_amount", money(today.get("contract_amount"))),
        Headline("Payments today", "payment_amount", money(today.get("payment_amount"))),
        Headline("Contract amount, month to date", "mtd_contract_amount", money(today.get("mtd_contract_amount"))),
        Headline("Contract target, month", "month_contract_target", money(today.get("month_contract_target"))),
        Headline("Target completion, month to date", "mtd_target_completion", rate(today.get("mtd_target_completion"))),
    ]
    figure, (axis,) = new_figure()
    dates = [row["date_day"] for row in month]
    axis.bar(
        dates, [float(row["contract_amount"] or 0) for row in month], color="#9ecae1", label="contract amount, day"
    )
    axis.plot(
        dates,
        [float(row["mtd_contract_amount"] or 0) for row in month],
        color="#08519c",
        marker="o",
        label="month to date",
    )
    if today.get("month_contract_target"):
        axis.axhline(float(today["month_contract_target"]), color="#d62728", linestyle="--", label="month target")
    axis.set_title(f"Contract amount in {day(today.get('month_start'))[:7]}, as of {day(today.get('date_day'))}")
    axis.legend(loc="upper left")
    axis.tick_params(axis="x", labelrotation=45)
    thousands(axis)
    return Panel(
        key="briefing",
        title="Daily briefing",
        caption=f"{day(today.get('date_day'))}: the day, month to date and against the month's target "
        "(mart_sales_briefing_daily).",
        figure=figure,
        table=Table(
            ["day", "new customers", "new opportunities", "contract amount", "payments", "month to date"],
            [
                [
                    day(row["date_day"]),
                    count(row["new_customers"]),
                    count(row["new_opportunities"]),
                    money(row["contract_amount"]),
                    money(row["payment_amount"]),
                    money(row["mtd_contract_amount"]),
                ]
                for row in reversed(month)
            ],
        ),
        headlines=headlines,
    )


def latest_rep_month(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The newest month of mart_rep_performance_monthly, with each rep's name."""
    return records(
        con,
        f"""
        select r.*, coalesce(u.user_name, 'user ' || r.user_id) as user_name
        from marts.mart_rep_performance_monthly as r
        left join marts.dim_users as u using (user_id)
        where r.month_start = date_trunc('month', {AS_OF_DATE})
        order by r.rank_contract_amount, r.user_id
    """,
    )


def rep_targets(con: duckdb.DuckDBPyConnection) -> Panel:
    reps = latest_rep_month(con)
    month = day(reps[0]["month_start"])[:7] if reps else "–"
    charted = reps[:REPS_CHARTED]  # in rank order of contract amount
    figure, (axis,) = new_figure()
    positions = range(len(charted))
    axis.bar(
        [p - 0.2 for p in positions],
        [float(r["contract_amount"] or 0) for r in charted],
        width=0.4,
        color="#3182bd",
        label="contract amount",
    )
    axis.bar(
        [p + 0.2 for p in positions],
        [float(r["contract_amount_target"] or 0) for r in charted],
        width=0.4,
        color="#bdbdbd",
        label="target",
    )
    axis.set_xticks(list(positions), [r["user_name"] for r in charted], rotation=45, ha="right")
    shown = f"top {len(charted)} of {len(reps)} reps" if len(charted) < len(reps) else "by rep"
    axis.set_title(f"Contract amount against target, {shown}, {month}")
    axis.legend()
    thousands(axis)
    return Panel(
        key="rep_targets",
        title="Contract amount against target by rep",
        caption=f"{month}: each rep's contracts signed against the month's quota (mart_rep_performance_monthly); "
        f"the chart shows the {REPS_CHARTED} leading reps by contract amount, the table every rep.",
        figure=figure,
        table=Table(
            ["rep", "contract amount", "target", "completion"],
            [
                [
                    r["user_name"],
                    money(r["contract_amount"]),
                    money(r["contract_amount_target"]),
                    rate(r["contract_target_completion"]),
                ]
                for r in reps
            ],
        ),
    )


def funnel(con: duckdb.DuckDBPyConnection) -> Panel:
    stages = records(con, "select * from marts.mart_sales_funnel order by stage_order")
    figure, (axis,) = new_figure()
    names = [s["stage"] for s in stages]
    axis.barh(names, [s["opportunities_reached"] for s in stages], color="#31a354")
    axis.invert_yaxis()
    for position, s in enumerate(stages):
        axis.annotate(
            f"{count(s['opportunities_reached'])}  ({rate(s['stage_conversion_rate'])} of previous)",
            (s["opportunities_reached"], position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
        )
    axis.set_xlim(0, max((s["opportunities_reached"] for s in stages), default=1) * 1.45)
    axis.set_title("Opportunities that reached each stage")
    return Panel(
        key="funnel",
        title="Sales funnel",
        caption="Every opportunity, by the furthest stage it reached; conversion from the previous stage and "
        "from the first (mart_sales_funnel).",
        figure=figure,
        table=Table(
            ["stage", "reached", "amount reached", "stage conversion", "overall conversion"],
            [
                [
                    s["stage"],
                    count(s["opportunities_reached"]),
                    money(s["amount_reached"]),
                    rate(s["stage_conversion_rate"]),
                    rate(s["overall_conversion_rate"]),
                ]
                for s in stages
            ],
        ),
    )


# The team's month against its targets, added up over the reps with a contract-amount target in the as-of month
# (docs/analyst-guide.md, "Who is behind pace"): the pacing panel's headlines and the `crm-warehouse demo` line.
TEAM_PACING_SQL = """
    select
        max(month_start)                                                        as month_start,
        max(elapsed_days)                                                       as elapsed_days,
        max(days_in_month)                                                      as days_in_month,
        count(*)                                                                as reps,
        sum(contract_amount) / nullif(sum(expected_to_date), 0)                 as pacing_ratio,
        sum(pipeline_due_amount) / nullif(sum(remaining_target), 0)             as coverage_ratio,
        sum(projected_contract_amount) / nullif(sum(contract_amount_target), 0) as projected_completion
    from marts.mart_target_pacing
"""


def team_pacing(con: duckdb.DuckDBPyConnection) -> dict:
    """The team's pacing and coverage ratios this month (null without a rep with a target)."""
    (team,) = records(con, TEAM_PACING_SQL)
    return team


def pipeline_movement(con: duckdb.DuckDBPyConnection) -> Panel:
    months = records(
        con,
        f"""
        select * from (select * from marts.mart_pipeline_movement_monthly order by month_start desc limit {MONTHS_SHOWN})
        order by month_start
    """,
    )
    first, last = (months[0], months[-1]) if months else ({}, {})
    opening = float(first.get("opening_amount") or 0)
    created, won, lost = (
        sum(float(m[column] or 0) for m in months) for column in ("created_amount", "won_amount", "lost_amount")
    )
    closing = float(last.get("closing_amount") or 0)
    # A waterfall: opening and closing stand on the axis; each flow floats from where the previous one ended.
    steps = [
        ("opening", 0.0, opening, "#636363"),
        ("+ created", opening, created, "#31a354"),
        ("− won", opening + created - won, won, "#3182bd"),
        ("− lost", opening + created - won - lost, lost, "#de2d26"),
        ("closing", 0.0, closing, "#636363"),
    ]
    figure, (axis,) = new_figure()
    axis.bar(
        [label for label, *_ in steps],
        [height for _, _, height, _ in steps],
        bottom=[bottom for _, bottom, _, _ in steps],
        color=[colour for *_, colour in steps],
    )
    for position, (_, bottom, height, _) in enumerate(steps):
        axis.annotate(
            money(height).split(".")[0],
            (position, bottom + height),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
        )
    period = f"{day(first.get('month_start'))[:7]} to {day(last.get('month_start'))[:7]}"
    axis.set_title(f"Open pipeline amount, {period}: where it came from and went")
    thousands(axis)
    return Panel(
        key="pipeline_movement",
        title="Pipeline movement",
        caption=f"The open pipeline at the start of {day(first.get('month_start'))[:7]}, plus what was created, "
        f"minus what was won and lost over the last {MONTHS_SHOWN} months, is the open pipeline at the as-of date "
        "(mart_pipeline_movement_monthly; the table has each month).",
        figure=figure,
        table=Table(
            ["month", "opening", "created", "won", "lost", "closing", "closing amount"],
            [
                [
                    day(m["month_start"])[:7],
                    count(m["opening_opportunities"]),
                    count(m["created_opportunities"]),
                    count(m["won_opportunities"]),
                    count(m["lost_opportunities"]),
                    count(m["closing_opportunities"]),
                    money(m["closing_amount"]),
                ]
                for m in reversed(months)
            ],
        ),
    )


def target_pacing(con: duckdb.DuckDBPyConnection) -> Panel:
    reps = records(
        con,
        """
        select p.*, coalesce(u.user_name, 'user ' || p.user_id) as user_name
        from marts.mart_target_pacing as p
        left join marts.dim_users as u using (user_id)
        order by p.pacing_ratio nulls first, p.user_id
    """,
    )
    team = team_pacing(con)
    month = day(team["month_start"])[:7]
    charted = reps[:REPS_CHARTED]  # furthest behind first
    figure, (axis,) = new_figure(height=max(4.2, 0.3 * len(charted) + 1.5))
    positions = range(len(charted))
    axis.barh(
        [p - 0.2 for p in positions],
        [float(r["pacing_ratio"] or 0) for r in charted],
        height=0.4,
        color="#3182bd",
        label="pacing (signed / expected by today)",
    )
    axis.barh(
        [p + 0.2 for p in positions],
        [float(r["coverage_ratio"] or 0) for r in charted],
        height=0.4,
        color="#fd8d3c",
        label="coverage (pipeline due / remaining)",
    )
    axis.axvline(1.0, color="#d62728", linestyle="--", label="linear pace; full coverage")
    axis.set_yticks(list(positions), [r["user_name"] for r in charted])
    axis.invert_yaxis()
    shown = f"the {len(charted)} furthest behind of {len(reps)} reps" if len(charted) < len(reps) else "by rep"
    axis.set_title(
        f"Pace against the month's target, {shown}, {month} (day {team['elapsed_days'] or '–'} of {team['days_in_month'] or '–'})"
    )
    axis.legend(loc="lower right", fontsize="small")
    return Panel(
        key="target_pacing",
        title="Target pacing and coverage",
        caption=f"{month}: what each rep signed so far against what a linear pace to the month's target expects by "
        "the as-of date (1 = on pace), and their open pipeline due this month against what remains of the target "
        "(1 = enough if all of it is won) (mart_target_pacing).",
        figure=figure,
        table=Table(
            [
                "rep",
                "target",
                "signed",
                "expected by today",
                "pacing",
                "remaining",
                "pipeline due",
                "coverage",
                "projected",
            ],
            [
                [
                    r["user_name"],
                    money(r["contract_amount_target"]),
                    money(r["contract_amount"]),
                    money(r["expected_to_date"]),
                    rate(r["pacing_ratio"]),
                    money(r["remaining_target"]),
                    money(r["pipeline_due_amount"]),
                    rate(r["coverage_ratio"]),
                    rate(r["projected_completion"]),
                ]
                for r in reps
            ],
        ),
        headlines=[
            Headline(f"Team pacing, {month}", "pacing_ratio", rate(team["pacing_ratio"])),
            Headline(f"Team coverage, {month}", "coverage_ratio", rate(team["coverage_ratio"])),
        ],
    )


SLIPPED_SHOWN = 20


def slipped_deals(con: duckdb.DuckDBPyConnection) -> Panel:
    deals = records(
        con,
        """
        select s.*, coalesce(u.user_name, 'user ' || s.owner_user_id) as owner_name
        from marts.mart_opportunity_slippage as s
        left join marts.dim_users as u on u.user_id = s.owner_user_id
        where s.is_past_due or s.close_date_pushes > 0
        order by s.close_date_pushes desc, s.days_past_due desc, s.amount desc, s.opportunity_id
    """,
    )
    per_owner: dict[str, float] = defaultdict(float)
    for deal in deals:
        if deal["is_past_due"]:
            per_owner[deal["owner_name"]] += float(deal["amount"] or 0)
    owners = sorted(per_owner.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    figure, (axis,) = new_figure()
    axis.barh([name for name, _ in owners], [amount for _, amount in owners], color="#e6550d")
    axis.invert_yaxis()
    past_due = sum(1 for deal in deals if deal["is_past_due"])
    axis.set_title(f"{past_due:,} open deals past their expected close date: amount by owner")
    thousands(axis, "x")
    return Panel(
        key="slipped_deals",
        title="Slipped deals",
        caption="Open deals past their expected close date or whose close date was pushed later, the most pushed "
        f"and longest overdue first (the first {SLIPPED_SHOWN}; mart_opportunity_slippage). Pushes are counted "
        "between pipeline runs, from the warehouse's snapshot history.",
        figure=figure,
        table=Table(
            ["deal", "owner", "stage", "amount", "expected close", "first seen", "days past due", "pushes"],
            [
                [
                    str(d["opportunity_id"]),
                    d["owner_name"],
                    d["stage"] or "–",
                    money(d["amount"]),
                    day(d["expected_close_date"]),
                    day(d["first_seen_expected_close_date"]),
                    count(d["days_past_due"]),
                    count(d["close_date_pushes"]),
                ]
                for d in deals[:SLIPPED_SHOWN]
            ],
        ),
        headlines=[Headline("Deals past due", "is_past_due", count(past_due))],
    )


RANKINGS = [
    ("rank_contract_amount", "contract_amount", "contract amount", money),
    ("rank_payment_amount", "payment_amount", "payment amount", money),
    ("rank_contracts_signed", "contracts_signed", "contracts signed", count),
    ("rank_new_customers", "new_customers", "new customers", count),
]


def rankings(con: duckdb.DuckDBPyConnection) -> Panel:
    reps = latest_rep_month(con)
    month = day(reps[0]["month_start"])[:7] if reps else "–"
    figure, axes = new_figure(2, 2, height=6.0)
    for axis, (rank, measure, label, fmt) in zip(axes, RANKINGS):
        leaders = sorted(reps, key=lambda r: (r[rank], r["user_id"]))[:5]
        axis.barh(
            [f"#{r[rank]} {r['user_name']}" for r in leaders],
            [float(r[measure] or 0) for r in leaders],
            color="#756bb1",
        )
        axis.invert_yaxis()
        axis.set_title(f"Top by {label}")
        if fmt is money:
            thousands(axis, "x")
        else:
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(f"Rankings, {month}")
    return Panel(
        key="rankings",
        title="Rankings",
        caption=f"{month}: reps ranked by contract amount, payments, contracts signed and new customers "
        "(ties share a rank; mart_rep_performance_monthly).",
        figure=figure,
        table=Table(
            ["rep", *[label for _, _, label, _ in RANKINGS]],
            [[r["user_name"], *[f"#{r[rank]}  {fmt(r[measure])}" for rank, measure, _, fmt in RANKINGS]] for r in reps],
        ),
    )


def forgotten_customers(con: duckdb.DuckDBPyConnection) -> Panel:
    customers = records(
        con,
        """
        select f.customer_id, f.customer_name, f.days_since_activity, f.last_activity_date,
               coalesce(u.user_name, 'user ' || f.owner_user_id) as owner_name
        from marts.mart_forgotten_customers as f
        left join marts.dim_users as u on u.user_id = f.owner_user_id
        order by f.days_since_activity desc nulls first, f.customer_id
    """,
    )
    per_owner: dict[str, int] = defaultdict(int)
    for customer in customers:
        per_owner[customer["owner_name"]] += 1
    owners = sorted(per_owner.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    figure, (axis,) = new_figure()
    axis.barh([name for name, _ in owners], [n for _, n in owners], color="#e6550d")
    axis.invert_yaxis()
    axis.set_title(f"{len(customers):,} forgotten customers, by owner")
    return Panel(
        key="forgotten_customers",
        title="Forgotten customers",
        caption="Owned customers with no follow-up for more than 30 days, or none at all; the longest forgotten "
        "first (mart_forgotten_customers).",
        figure=figure,
        table=Table(
            ["customer", "owner", "last activity", "days since"],
            [
                [
                    c["customer_name"] or f"customer {c['customer_id']}",
                    c["owner_name"],
                    day(c["last_activity_date"]),
                    count(c["days_since_activity"]),
                ]
                for c in customers[:20]
            ],
        ),
        headlines=[Headline("Forgotten customers", "customer_id", count(len(customers)))],
    )


def receivables(con: duckdb.DuckDBPyConnection) -> Panel:
    buckets = {
        r["aging_bucket"]: r
        for r in records(
            con,
            """
        select aging_bucket, count(*) as installments, sum(receivable_amount) as receivable
        from marts.mart_receivables_aging where receivable_amount > 0 group by aging_bucket
    """,
        )
    }
    months = records(
        con,
        f"""
        select * from (select * from marts.mart_collections_monthly where month_start <= {AS_OF_DATE}
                       order by month_start desc limit {MONTHS_SHOWN})
        order by month_start
    """,
    )
    figure, (aging, collection) = new_figure(1, 2)
    aging.bar(
        AGING_BUCKETS,
        [float(buckets.get(b, {}).get("receivable") or 0) for b in AGING_BUCKETS],
        color=["#74c476", "#fdd0a2", "#fdae6b", "#fd8d3c", "#d94801"],
    )
    aging.set_title("Receivable by days overdue")
    thousands(aging)
    collection.plot(
        [day(m["month_start"])[:7] for m in months],
        [float(m["collection_rate"]) if m["collection_rate"] is not None else float("nan") for m in months],
        marker="o",
        color="#08519c",
    )
    collection.set_ylim(0, 1.05)
    collection.set_title("Collection rate of installments due, by month")
    collection.tick_params(axis="x", labelrotation=45)
    overdue = sum(float(b["receivable"]) for name, b in buckets.items() if name != "current")
    return Panel(
        key="receivables",
        title="Receivables aging and collection rate",
        caption="What is still owed, by days overdue at the as-of date (mart_receivables_aging); paid against due "
        "for installments due each month (mart_collections_monthly).",
        figure=figure,
        table=Table(
            ["days overdue", "installments", "receivable"],
            [
                [b, count(buckets.get(b, {}).get("installments", 0)), money(buckets.get(b, {}).get("receivable", 0))]
                for b in AGING_BUCKETS
            ],
        ),
        headlines=[
            Headline("Overdue receivables", "receivable_amount", money(overdue)),
            Headline(
                f"Collection rate, {day(months[-1]['month_start'])[:7] if months else '–'}",
                "collection_rate",
                rate(months[-1]["collection_rate"] if months else None),
            ),
        ],
    )


def customer_profile(con: duckdb.DuckDBPyConnection) -> Panel:
    rows = records(
        con,
        """
        select * from marts.mart_customer_profile order by dimension, customers desc, dimension_value
    """,
    )
    figure, axes = new_figure(2, 2, height=6.5)
    table_rows = []
    for axis, dimension in zip(axes, PROFILE_DIMENSIONS):
        values = [r for r in rows if r["dimension"] == dimension][:TOP]
        axis.barh(
            [str(r["dimension_value"]) for r in values],
            [r["customers"] for r in values],
            color="#3182bd",
            label="customers",
        )
        axis.barh(
            [str(r["dimension_value"]) for r in values],
            [r["public_pool_customers"] for r in values],
            color="#9ecae1",
            label="in the public pool",
        )
        axis.invert_yaxis()
        axis.set_title(f"Customers by {dimension}")
        table_rows += [
            [dimension, str(r["dimension_value"]), count(r["customers"]), count(r["public_pool_customers"])]
            for r in values
        ]
    axes[0].legend(loc="lower right")
    return Panel(
        key="customer_profile",
        title="Customer profile",
        caption="Customers by city, industry, level and source, and how many sit in the public pool "
        "(mart_customer_profile).",
        figure=figure,
        table=Table(["dimension", "value", "customers", "public pool"], table_rows),
    )


def product_sales(con: duckdb.DuckDBPyConnection) -> Panel:
    rows = records(
        con,
        f"""
        select month_start, category, sum(quantity) as quantity, sum(amount) as amount
        from marts.mart_product_sales_monthly
        where month_start > {AS_OF_DATE} - interval {MONTHS_SHOWN} month and month_start <= {AS_OF_DATE}
        group by all order by month_start, category
    """,
    )
    months = sorted({r["month_start"] for r in rows})
    categories = sorted({r["category"] or "uncategorised" for r in rows})
    amounts = {(r["month_start"], r["category"] or "uncategorised"): float(r["amount"] or 0) for r in rows}
    figure, (axis,) = new_figure()
    labels = [day(m)[:7] for m in months]
    bottom = [0.0] * len(months)
    for category in categories:
        heights = [amounts.get((m, category), 0.0) for m in months]
        axis.bar(labels, heights, bottom=bottom, label=category)
        bottom = [b + h for b, h in zip(bottom, heights)]
    axis.set_title(f"Amount sold by category, last {MONTHS_SHOWN} months")
    axis.legend(fontsize="small")
    axis.tick_params(axis="x", labelrotation=45)
    thousands(axis)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        totals[r["category"] or "uncategorised"][0] += float(r["quantity"] or 0)
        totals[r["category"] or "uncategorised"][1] += float(r["amount"] or 0)
    return Panel(
        key="product_sales",
        title="Product sales by category",
        caption=f"Won opportunities' lines, by product category and month, the last {MONTHS_SHOWN} months "
        "(mart_product_sales_monthly).",
        figure=figure,
        table=Table(
            ["category", "quantity", "amount"],
            [[c, count(q), money(a)] for c, (q, a) in sorted(totals.items(), key=lambda item: -item[1][1])],
        ),
    )


def deal_cycle(con: duckdb.DuckDBPyConnection) -> Panel:
    rows = records(
        con,
        """
        select c.*, coalesce(u.user_name, p.product_name, c.dimension_value) as label
        from marts.mart_sales_cycle as c
        left join marts.dim_users as u on c.dimension = 'rep' and cast(u.user_id as varchar) = c.dimension_value
        left join marts.dim_products as p on c.dimension = 'product' and cast(p.product_id as varchar) = c.dimension_value
        order by c.dimension, c.won_opportunities desc, c.dimension_value
    """,
    )
    figure, axes = new_figure(1, 3, width=12.0, height=4.5)
    table_rows = []
    for axis, dimension in zip(axes, CYCLE_DIMENSIONS):
        values = [r for r in rows if r["dimension"] == dimension][:TOP]
        positions = range(len(values))
        axis.barh(
            [p - 0.2 for p in positions],
            [float(r["avg_days"] or 0) for r in values],
            height=0.4,
            color="#6baed6",
            label="mean",
        )
        axis.barh(
            [p + 0.2 for p in positions],
            [float(r["median_days"] or 0) for r in values],
            height=0.4,
            color="#08519c",
            label="median",
        )
        axis.set_yticks(list(positions), [r["label"] for r in values])
        axis.invert_yaxis()
        axis.set_title(f"Days to win, by {dimension}")
        table_rows += [
            [dimension, r["label"], count(r["won_opportunities"]), days(r["avg_days"]), days(r["median_days"])]
            for r in values
        ]
    axes[0].legend(loc="lower right")
    return Panel(
        key="deal_cycle",
        title="Deal cycle by rep, region and product",
        caption="Days from creation to win of won opportunities, mean and median (mart_sales_cycle).",
        figure=figure,
        table=Table(["by", "value", "won", "mean days", "median days"], table_rows),
    )


def satisfaction(con: duckdb.DuckDBPyConnection) -> Panel:
    months = records(
        con,
        f"""
        select * from (
            select month_start, sum(responses) as responses, sum(score_sum) / nullif(sum(responses), 0) as avg_score
            from marts.mart_satisfaction_monthly where month_start <= {AS_OF_DATE}
            group by month_start having sum(responses) > 0
            order by month_start desc limit {MONTHS_SHOWN}
        ) order by month_start
    """,
    )
    reps = records(
        con,
        """
        select coalesce(u.user_name, 'user ' || s.user_id) as user_name, sum(s.responses) as responses,
               sum(s.score_sum) / nullif(sum(s.responses), 0) as avg_score
        from marts.mart_satisfaction_monthly as s
        left join marts.dim_users as u using (user_id)
        group by all having sum(s.responses) > 0 order by avg_score desc, user_name
    """,
    )
    figure, (trend, by_rep) = new_figure(1, 2)
    trend.plot(
        [day(m["month_start"])[:7] for m in months],
        [float(m["avg_score"]) for m in months],
        marker="o",
        color="#31a354",
    )
    trend.set_ylim(1, 5)
    trend.set_title("Mean score (1–5) by month")
    trend.tick_params(axis="x", labelrotation=45)
    by_rep.barh([r["user_name"] for r in reps[:TOP]], [float(r["avg_score"]) for r in reps[:TOP]], color="#74c476")
    by_rep.invert_yaxis()
    by_rep.set_xlim(1, 5)
    by_rep.set_title("Mean score by rep")
    return Panel(
        key="satisfaction",
        title="Customer satisfaction",
        caption="Survey scores (1 to 5), weighted by responses, by month and by rep (mart_satisfaction_monthly).",
        figure=figure,
        table=Table(
            ["rep", "responses", "mean score"],
            [[r["user_name"], count(r["responses"]), f"{float(r['avg_score']):.2f}"] for r in reps],
        ),
    )


PANELS: list[Callable[[duckdb.DuckDBPyConnection], Panel]] = [
    briefing,
    rep_targets,
    target_pacing,
    funnel,
    pipeline_movement,
    slipped_deals,
    rankings,
    forgotten_customers,
    receivables,
    customer_profile,
    product_sales,
    deal_cycle,
    satisfaction,
]
