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
    """Superset's v2 grid: the funnel and the leaderboard side by side, collections below."""
    layout: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": "CRM sales"}},
    }
    rows = [list(charts.items())[:2], list(charts.items())[2:]]
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
    datasets["rep_leaderboard"] = superset.upsert(
        "dataset",
        "table_name",
        "rep_leaderboard",
        {"database": database_id, "schema": MARTS, "table_name": "rep_leaderboard", "sql": REP_LEADERBOARD_SQL},
        create_only=("database", "schema", "table_name"),
    )
    superset.call("PUT", f"/api/v1/dataset/{datasets['rep_leaderboard']}/refresh")

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
