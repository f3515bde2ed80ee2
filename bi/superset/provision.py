"""Register the published warehouse in a running Superset, with datasets, charts and a dashboard.

Runs in Superset's own environment (bi/superset/run calls it), through Superset's REST API only, so it
works the same against a Superset you already run. Safe to re-run: everything is found by name and updated.

    python provision.py --url http://127.0.0.1:8088 --warehouse /abs/path/crm.duckdb
    (admin user and password from CRM_SUPERSET_ADMIN_USER / CRM_SUPERSET_ADMIN_PASSWORD)
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import duckdb
import requests

DATABASE_NAME = "CRM warehouse (published)"
DASHBOARD_SLUG = "crm-sales"
MARTS = "marts"

# A virtual dataset: the leaderboard wants the rep's name, which lives in dim_users.
REP_LEADERBOARD_SQL = """
select users.user_name, users.department_name, performance.*
from marts.mart_rep_performance_monthly as performance
join marts.dim_users as users using (user_id)
where performance.month_start > (select max(month_start) from marts.mart_rep_performance_monthly) - interval 12 month
""".strip()

# Virtual datasets of the sales manager's Monday charts (docs/domain.md §2 "Pipeline movement, pacing and slippage").
# Movement: the last 12 months, won and lost as negative bars (what left the pipeline).
PIPELINE_MOVEMENT_SQL = """
select month_start, opening_amount, created_amount, -won_amount as won_amount_out, -lost_amount as lost_amount_out,
       closing_amount
from marts.mart_pipeline_movement_monthly
where month_start > (select max(month_start) from marts.mart_pipeline_movement_monthly) - interval 12 month
""".strip()
TARGET_PACING_SQL = """
select users.user_name, pacing.*
from marts.mart_target_pacing as pacing
left join marts.dim_users as users using (user_id)
""".strip()
SLIPPED_DEALS_SQL = """
select users.user_name as owner_name, slippage.*
from marts.mart_opportunity_slippage as slippage
left join marts.dim_users as users on users.user_id = slippage.owner_user_id
where slippage.is_past_due or slippage.close_date_pushes > 0
""".strip()
# virtual dataset name → its SQL
VIRTUAL_DATASETS = {
    "rep_leaderboard": REP_LEADERBOARD_SQL,
    "pipeline_movement_last_12_months": PIPELINE_MOVEMENT_SQL,
    "target_pacing_by_rep": TARGET_PACING_SQL,
    "slipped_deals": SLIPPED_DEALS_SQL,
}


def sum_of(column: str, label: str) -> dict[str, Any]:
    return {"expressionType": "SQL", "sqlExpression": f"SUM({column})", "label": label}


NO_TIME_FILTER = [
    {
        "clause": "WHERE",
        "subject": "month_start",
        "operator": "TEMPORAL_RANGE",
        "comparator": "No filter",
        "expressionType": "SIMPLE",
    }
]

# chart name → (dataset, viz_type, form data): the three views the articles open with.
CHARTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "Sales funnel": (
        "mart_sales_funnel",
        "funnel",
        {
            "groupby": ["stage"],
            "metric": sum_of("opportunities_reached", "Opportunities reached"),
            "row_limit": 20,
            "sort_by_metric": True,
            "show_labels": True,
            "label_type": "key_value_percent",
        },
    ),
    "Rep leaderboard: contract amount against target, last 12 months": (
        "rep_leaderboard",
        "table",
        {
            "query_mode": "aggregate",
            "groupby": ["user_name", "department_name"],
            "metrics": [
                sum_of("contract_amount", "Contract amount"),
                sum_of("contract_amount_target", "Contract target"),
                sum_of("contracts_signed", "Contracts signed"),
            ],
            "timeseries_limit_metric": sum_of("contract_amount", "Contract amount"),
            "order_desc": True,
            "row_limit": 50,
            "adhoc_filters": NO_TIME_FILTER,
        },
    ),
    "Collections: due and collected by month": (
        "mart_collections_monthly",
        "echarts_timeseries_bar",
        {
            "x_axis": "month_start",
            "time_grain_sqla": "P1M",
            "metrics": [sum_of("due_amount", "Due"), sum_of("paid_against_due", "Collected against due")],
            "groupby": [],
            "row_limit": 1000,
            "adhoc_filters": NO_TIME_FILTER,
            "show_legend": True,
        },
    ),
    "Pipeline movement: opening, created, won, lost, closing, last 12 months": (
        "pipeline_movement_last_12_months",
        "echarts_timeseries_bar",
        {
            "x_axis": "month_start",
            "time_grain_sqla": "P1M",
            "metrics": [
                sum_of("opening_amount", "Opening"),
                sum_of("created_amount", "+ Created"),
                sum_of("won_amount_out", "− Won"),
                sum_of("lost_amount_out", "− Lost"),
                sum_of("closing_amount", "Closing"),
            ],
            "groupby": [],
            "row_limit": 1000,
            "adhoc_filters": NO_TIME_FILTER,
            "show_legend": True,
        },
    ),
    "Target pacing and coverage by rep, this month": (
        "target_pacing_by_rep",
        "table",
        {
            "query_mode": "raw",
            "all_columns": [
                "user_name",
                "contract_amount_target",
                "contract_amount",
                "expected_to_date",
                "pacing_ratio",
                "remaining_target",
                "pipeline_due_amount",
                "coverage_ratio",
                "projected_completion",
            ],
            "order_by_cols": [json.dumps(["pacing_ratio", True])],
            "row_limit": 500,
        },
    ),
    "Slipped deals: past due or pushed, the most pushed first": (
        "slipped_deals",
        "table",
        {
            "query_mode": "raw",
            "all_columns": [
                "opportunity_id",
                "owner_name",
                "stage",
                "amount",
                "expected_close_date",
                "first_seen_expected_close_date",
                "days_past_due",
                "close_date_pushes",
            ],
            "order_by_cols": [json.dumps(["close_date_pushes", False]), json.dumps(["days_past_due", False])],
            "row_limit": 100,
        },
    ),
}


class Superset:
    """A logged-in session: a bearer token for the API and the CSRF token its write calls need."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        token = self.call(
            "POST",
            "/api/v1/security/login",
            {"username": user, "password": password, "provider": "db", "refresh": True},
        )
        self.session.headers["Authorization"] = f"Bearer {token['access_token']}"
        self.session.headers["X-CSRFToken"] = self.call("GET", "/api/v1/security/csrf_token/")["result"]
        self.session.headers["Referer"] = self.url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        response = self.session.request(method, self.url + path, json=body, params=params or None, timeout=120)
        if response.status_code >= 400:
            raise RuntimeError(f"Superset {method} {path}: HTTP {response.status_code}: {response.text[:2000]}")
        return response.json()

    def find(self, resource: str, column: str, value: str) -> dict[str, Any] | None:
        query = f"(filters:!((col:{column},opr:eq,value:'{value}')),page_size:100)"
        matches = self.call("GET", f"/api/v1/{resource}/", q=query)["result"]
        return matches[0] if matches else None

    def upsert(
        self, resource: str, column: str, value: str, body: dict[str, Any], create_only: tuple[str, ...] = ()
    ) -> int:
        """The id of the `resource` whose `column` is `value`, created or brought up to date with `body`."""
        existing = self.find(resource, column, value)
        if existing is None:
            return self.call("POST", f"/api/v1/{resource}/", body)["id"]
        update = {key: val for key, val in body.items() if key not in create_only}
        self.call("PUT", f"/api/v1/{resource}/{existing['id']}", update)
        return existing["id"]


def warehouse_uri(warehouse: str) -> str:
    """How Superset opens the published file. Read-only: Superset never holds a write lock, and publishing can swap
    the file under it. Without external access: SQL Lab reads this file's tables and nothing else on the machine
    (`read_text('/etc/passwd')`, `read_csv`, `COPY ... TO`, `ATTACH` of another file are refused), and no query can
    turn it back on while the connection is open."""
    return f"duckdb:///{warehouse}?access_mode=read_only&enable_external_access=false"


def published_models(warehouse: str) -> list[str]:
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name", [MARTS]
        ).fetchall()
    return [name for (name,) in rows]


def dashboard_layout(charts: dict[str, int]) -> dict[str, Any]:
    """Superset's v2 grid, two charts a row in CHARTS' order: the funnel and the leaderboard, collections and the
    pipeline's movement, pacing and slipped deals."""
    layout: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": "CRM sales"}},
    }
    items = list(charts.items())
    rows = [items[start : start + 2] for start in range(0, len(items), 2)]
    for number, row in enumerate(rows, start=1):
        row_id = f"ROW-{number}"
        layout["GRID_ID"]["children"].append(row_id)
        layout[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for name, chart_id in row:
            chart_key = f"CHART-{chart_id}"
            layout[row_id]["children"].append(chart_key)
            layout[chart_key] = {
                "type": "CHART",
                "id": chart_key,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {"chartId": chart_id, "sliceName": name, "width": 12 // len(row), "height": 60},
            }
    return layout


def provision(superset: Superset, warehouse: str) -> dict[str, Any]:
    database_id = superset.upsert(
        "database",
        "database_name",
        DATABASE_NAME,
        {
            "database_name": DATABASE_NAME,
            "sqlalchemy_uri": warehouse_uri(warehouse),
            "expose_in_sqllab": True,
            "allow_dml": False,
            "allow_run_async": False,
        },
    )
    datasets = {}
    for table in published_models(warehouse):
        datasets[table] = superset.upsert(
            "dataset",
            "table_name",
            table,
            {"database": database_id, "schema": MARTS, "table_name": table},
            create_only=("database", "schema", "table_name"),
        )
        superset.call("PUT", f"/api/v1/dataset/{datasets[table]}/refresh")
    for name, sql in VIRTUAL_DATASETS.items():
        datasets[name] = superset.upsert(
            "dataset",
            "table_name",
            name,
            {"database": database_id, "schema": MARTS, "table_name": name, "sql": sql},
            create_only=("database", "schema", "table_name"),
        )
        superset.call("PUT", f"/api/v1/dataset/{datasets[name]}/refresh")

    dashboard_id = superset.upsert(
        "dashboard", "slug", DASHBOARD_SLUG, {"dashboard_title": "CRM sales", "slug": DASHBOARD_SLUG, "published": True}
    )
    charts = {}
    for name, (dataset, viz_type, form_data) in CHARTS.items():
        params = {"datasource": f"{datasets[dataset]}__table", "viz_type": viz_type, **form_data}
        charts[name] = superset.upsert(
            "chart",
            "slice_name",
            name,
            {
                "slice_name": name,
                "viz_type": viz_type,
                "datasource_id": datasets[dataset],
                "datasource_type": "table",
                "params": json.dumps(params),
                "dashboards": [dashboard_id],
            },
        )
    superset.call("PUT", f"/api/v1/dashboard/{dashboard_id}", {"position_json": json.dumps(dashboard_layout(charts))})
    return {
        "database_id": database_id,
        "datasets": datasets,
        "charts": charts,
        "dashboard": f"{superset.url}/superset/dashboard/{DASHBOARD_SLUG}/",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--warehouse", required=True, help="absolute path of the published DuckDB file")
    args = parser.parse_args()
    superset = Superset(
        args.url, os.environ.get("CRM_SUPERSET_ADMIN_USER", "admin"), os.environ["CRM_SUPERSET_ADMIN_PASSWORD"]
    )
    print(json.dumps(provision(superset, os.path.abspath(args.warehouse)), indent=2))


if __name__ == "__main__":
    main()
