"""悟空CRM's tables mapped to the contract (docs/sources.md): a small hand-written 悟空CRM business, `dbt build` in
wukong mode, and the published figures a sales manager would check, each worked out by hand below.

The 悟空CRM business (times are local, Asia/Shanghai = UTC+8; amounts in CNY, also the reporting currency):
  users        1 Alice (dept 10), 2 Bob (dept 11, manager Alice), 3 Carol (deleted)
  stage groups 1 默认商机组 (enabled): 验证客户 20%, 需求分析 30%, 方案报价 80%;  2 旧流程 (disabled): 旧阶段
  customers    101 Alice, 上海,上海市,浦东新区, level 'A（重点客户）' (an older row said B), source 线上推广, region 华东
               102 Bob, 北京,北京市, level 'B（普通客户）', source 电话营销;  103 public pool
  opportunities (amount; created; stage changes; how it ended)
    401 Alice 10000  Jan 10 10:00  → 需求分析 Jan 20 → 方案报价 Feb 1 (a type-3 stage record that day)
                                   won: closing record 赢单 Feb 15 09:30 (01:30 UTC), edited again Feb 20
    402 Bob    5000  Jan 15        lost, remark 价格太高, no closing record: closed at update_time Mar 1 12:00
    403 Alice  3000  Feb 3         invalid, remark 重复录入, closing record 无效 Mar 5 08:00 → lost, reason 'invalid'
    404 Bob    8000  Mar 10        open, → 需求分析 Mar 12
  lines        401: product 301 twice, 2 and 1 at 900 → one line of 3 × 900
  contracts    501 Alice 10000 approved (1), signed Feb 16;  502 Bob 7000 pending (0);  503 Bob 2000 approved (10), Mar 20
  plans of 501 601 5000 due Mar 1;  602 5000 due Mar 15 voided;  603 5000 due Apr 15
  payments     701 5000 on plan 601 Mar 1 approved;  702 1000 on plan 603 not approved
  follow-ups   901 about customer 101 (打电话), 902 about contact 201 of 102 (见面拜访), 903 about opportunity 404
               (发邮件), 904 about contract 501 (演示), 905 about a lead, 906 about 101 but not valid
  targets      Alice 2025: contract Jan 10000, Feb 0, Mar 20000; payment Mar 5000;  a company target (ignored)
  visits       1101 Alice at 101, 很满意 (Mar 3);  1102 Bob at 102, 不满意 (Mar 20)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

import crm_contract
import crm_wukong
from orchestration.raw_schema import LOAD_ID_COLUMN, LOADED_AT_COLUMN, RAW_SCHEMA, duckdb_type, raw_table_ddl
from tests.support.dbt import run_dbt
from tests.support.servers import Server
from tests.support.warehouses import assert_same_published_rows, create_reader_role, postgres_env, sqlalchemy_rows

AS_OF_DATE = "2025-03-31"
LOADED_AT = datetime(2025, 3, 31, 23, 0)
WUKONG_ENV = {
    "CRM_SOURCE_SYSTEM": "wukong",
    "CRM_SOURCE_TIMEZONE": "Asia/Shanghai",
    "CRM_SOURCE_CURRENCY": "CNY",
    "CRM_REPORTING_CURRENCY": "CNY",
    "CRM_WUKONG_STAGE_GROUP": "",
    "CRM_WUKONG_REGION_FIELD": "region",
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def d(text: str) -> date:
    return date.fromisoformat(text)


def _months(**values: int) -> dict[str, Decimal]:
    names = "january february march april may june july august september october november december".split()
    return {name: Decimal(values.get(name, 0)) for name in names}


def _field_rows(table_rows: list[dict[str, Any]], batch_id: str, created: str, **fields: str) -> None:
    for name, value in fields.items():
        row_id = len(table_rows) + 1
        table_rows.append(
            {"id": row_id, "name": name, "value": value, "batch_id": batch_id, "create_time": ts(created)}
        )


CUSTOMER_DATA: list[dict[str, Any]] = []
_field_rows(CUSTOMER_DATA, "b101", "2025-01-05 09:00", level="B（普通客户）")  # edited later: the newer row wins
_field_rows(
    CUSTOMER_DATA,
    "b101",
    "2025-01-06 09:00",
    industry="制造业",
    level="A（重点客户）",
    source="线上推广",
    region="华东",
)
_field_rows(CUSTOMER_DATA, "b102", "2025-02-10 09:00", industry="金融", level="B（普通客户）", source="电话营销")
VISIT_DATA: list[dict[str, Any]] = []
_field_rows(VISIT_DATA, "v1101", "2025-03-03 10:00", satisficing="很满意")
_field_rows(VISIT_DATA, "v1102", "2025-03-20 10:00", satisficing="不满意")


def _activity(activity_id: int, about: int, about_id: int, category: str, user: int, at: str, **extra: Any) -> dict:
    return {
        "activity_id": activity_id,
        "type": 1,
        "category": category,
        "activity_type": about,
        "activity_type_id": about_id,
        "content": "跟进",
        "status": 1,
        "create_user_id": user,
        "create_time": ts(at),
        **extra,
    }


def _record(activity_id: int, business_id: int, content: str, at: str) -> dict:
    """A record 悟空CRM writes itself (type 3) about an opportunity: a stage advance or a closing."""
    return {
        "activity_id": activity_id,
        "type": 3,
        "category": None,
        "activity_type": 5,
        "activity_type_id": business_id,
        "content": content,
        "status": 1,
        "create_user_id": 1,
        "create_time": ts(at),
    }


WUKONG: dict[str, list[dict[str, Any]]] = {
    "wk_admin_dept": [
        {"dept_id": 10, "pid": 0, "name": "销售部"},
        {"dept_id": 11, "pid": 10, "name": "华东组"},
    ],
    "wk_admin_user": [
        {
            "user_id": 1,
            "realname": "Alice",
            "dept_id": 10,
            "parent_id": 0,
            "status": 1,
            "is_del": 0,
            "create_time": ts("2024-06-01 09:00"),
        },
        {
            "user_id": 2,
            "realname": "Bob",
            "dept_id": 11,
            "parent_id": 1,
            "status": 1,
            "is_del": 0,
            "create_time": ts("2024-07-01 09:00"),
        },
        {
            "user_id": 3,
            "realname": "Carol",
            "dept_id": 11,
            "parent_id": 1,
            "status": 1,
            "is_del": 1,
            "create_time": ts("2024-08-01 09:00"),
        },
    ],
    "wk_crm_customer": [
        {
            "customer_id": 101,
            "customer_name": "上海甲公司",
            "owner_user_id": 1,
            "address": "上海,上海市,浦东新区",
            "status": 1,
            "batch_id": "b101",
            "create_time": ts("2025-01-05 09:00"),
            "update_time": ts("2025-01-06 09:00"),
        },
        {
            "customer_id": 102,
            "customer_name": "北京乙公司",
            "owner_user_id": 2,
            "address": "北京,北京市",
            "status": 1,
            "batch_id": "b102",
            "create_time": ts("2025-02-10 09:00"),
        },
        {
            "customer_id": 103,
            "customer_name": "公海丙公司",
            "owner_user_id": None,
            "status": 1,
            "batch_id": "b103",
            "create_time": ts("2025-03-01 09:00"),
        },
    ],
    "wk_crm_customer_data": CUSTOMER_DATA,
    "wk_crm_contacts": [
        {
            "contacts_id": 201,
            "customer_id": 102,
            "name": "王经理",
            "post": "采购经理",
            "mobile": "",
            "telephone": "010-1234",
            "create_time": ts("2025-02-11 09:00"),
        },
    ],
    "wk_crm_product": [
        {
            "product_id": 301,
            "name": "软件A",
            "category_id": 1,
            "price": Decimal("1000.00"),
            "status": 1,
            "create_time": ts("2024-01-01 09:00"),
        },
    ],
    "wk_crm_product_category": [{"category_id": 1, "name": "软件", "pid": 0}],
    "wk_crm_business_type": [
        {"type_id": 1, "name": "默认商机组", "status": 1},
        {"type_id": 2, "name": "旧流程", "status": 0},
    ],
    "wk_crm_business_status": [
        {"status_id": 11, "type_id": 1, "name": "验证客户", "rate": "20", "order_num": 1},
        {"status_id": 12, "type_id": 1, "name": "需求分析", "rate": "30", "order_num": 2},
        {"status_id": 13, "type_id": 1, "name": "方案报价", "rate": "80", "order_num": 3},
        {"status_id": 21, "type_id": 2, "name": "旧阶段", "rate": "50", "order_num": 1},
    ],
    "wk_crm_business": [
        {
            "business_id": 401,
            "type_id": 1,
            "status_id": 13,
            "customer_id": 101,
            "business_name": "甲-软件",
            "money": Decimal("10000.00"),
            "deal_date": ts("2025-02-28 00:00"),
            "is_end": 1,
            "status_remark": "",
            "status": 1,
            "create_user_id": 1,
            "owner_user_id": 1,
            "create_time": ts("2025-01-10 10:00"),
            "update_time": ts("2025-02-20 18:00"),
        },
        {
            "business_id": 402,
            "type_id": 1,
            "status_id": 11,
            "customer_id": 102,
            "business_name": "乙-软件",
            "money": Decimal("5000.00"),
            "is_end": 2,
            "status_remark": " 价格太高 ",
            "status": 1,
            "create_user_id": 2,
            "owner_user_id": 2,
            "create_time": ts("2025-01-15 10:00"),
            "update_time": ts("2025-03-01 12:00"),
        },
        {
            "business_id": 403,
            "type_id": 1,
            "status_id": 11,
            "customer_id": 101,
            "business_name": "甲-重复",
            "money": Decimal("3000.00"),
            "is_end": 3,
            "status_remark": "重复录入",
            "status": 1,
            "create_user_id": 1,
            "owner_user_id": 1,
            "create_time": ts("2025-02-03 10:00"),
            "update_time": ts("2025-03-05 08:00"),
        },
        {
            "business_id": 404,
            "type_id": 1,
            "status_id": 12,
            "customer_id": 102,
            "business_name": "乙-扩容",
            "money": Decimal("8000.00"),
            "deal_date": ts("2025-04-30 00:00"),
            "is_end": 0,
            "status": 1,
            "create_user_id": 2,
            "owner_user_id": 2,
            "create_time": ts("2025-03-10 10:00"),
            "update_time": ts("2025-03-12 10:00"),
        },
    ],
    "wk_crm_business_change": [
        {
            "change_id": 1,
            "business_id": 401,
            "status_id": 12,
            "create_user_id": 1,
            "create_time": ts("2025-01-20 10:00"),
        },
        {
            "change_id": 2,
            "business_id": 401,
            "status_id": 13,
            "create_user_id": 1,
            "create_time": ts("2025-02-01 10:00"),
        },
        {
            "change_id": 3,
            "business_id": 404,
            "status_id": 12,
            "create_user_id": 2,
            "create_time": ts("2025-03-12 10:00"),
        },
    ],
    "wk_crm_business_product": [
        {
            "r_id": 1,
            "business_id": 401,
            "product_id": 301,
            "price": Decimal("1000.00"),
            "sales_price": Decimal("900.00"),
            "num": Decimal("2"),
        },
        {
            "r_id": 2,
            "business_id": 401,
            "product_id": 301,
            "price": Decimal("1000.00"),
            "sales_price": Decimal("900.00"),
            "num": Decimal("1"),
        },
    ],
    "wk_crm_contract": [
        {
            "contract_id": 501,
            "num": "HT-501",
            "customer_id": 101,
            "business_id": 401,
            "check_status": 1,
            "order_date": ts("2025-02-16 00:00"),
            "money": Decimal("10000.00"),
            "owner_user_id": 1,
            "create_time": ts("2025-02-16 09:00"),
        },
        {
            "contract_id": 502,
            "num": "HT-502",
            "customer_id": 102,
            "business_id": 0,
            "check_status": 0,
            "order_date": ts("2025-03-02 00:00"),
            "money": Decimal("7000.00"),
            "owner_user_id": 2,
            "create_time": ts("2025-03-02 09:00"),
        },
        {
            "contract_id": 503,
            "num": "HT-503",
            "customer_id": 102,
            "business_id": None,
            "check_status": 10,
            "order_date": ts("2025-03-20 00:00"),
            "money": Decimal("2000.00"),
            "owner_user_id": 2,
            "create_time": ts("2025-03-20 09:00"),
        },
    ],
    "wk_crm_receivables_plan": [
        {
            "receivables_plan_id": 601,
            "num": "1",
            "contract_id": 501,
            "customer_id": 101,
            "money": Decimal("5000.00"),
            "return_date": ts("2025-03-01 00:00"),
            "received_status": 1,
            "create_time": ts("2025-02-16 09:00"),
        },
        {
            "receivables_plan_id": 602,
            "num": "2",
            "contract_id": 501,
            "customer_id": 101,
            "money": Decimal("5000.00"),
            "return_date": ts("2025-03-15 00:00"),
            "received_status": 3,
            "create_time": ts("2025-02-16 09:00"),
        },
        {
            "receivables_plan_id": 603,
            "num": "3",
            "contract_id": 501,
            "customer_id": 101,
            "money": Decimal("5000.00"),
            "return_date": ts("2025-04-15 00:00"),
            "received_status": 0,
            "create_time": ts("2025-02-16 09:00"),
        },
    ],
    "wk_crm_receivables": [
        {
            "receivables_id": 701,
            "receivables_plan_id": 601,
            "contract_id": 501,
            "customer_id": 101,
            "check_status": 1,
            "return_time": d("2025-03-01"),
            "return_type": "银行转账",
            "money": Decimal("5000.00"),
            "create_time": ts("2025-03-01 15:00"),
        },
        {
            "receivables_id": 702,
            "receivables_plan_id": 603,
            "contract_id": 501,
            "customer_id": 101,
            "check_status": 0,
            "return_time": d("2025-03-10"),
            "return_type": "银行转账",
            "money": Decimal("1000.00"),
            "create_time": ts("2025-03-10 15:00"),
        },
    ],
    "wk_crm_invoice": [
        {
            "invoice_id": 801,
            "contract_id": 501,
            "invoice_money": Decimal("5000.00"),
            "invoice_date": d("2025-03-02"),
            "real_invoice_date": d("2025-03-03"),
            "check_status": 1,
            "create_time": ts("2025-03-02 09:00"),
        },
    ],
    "wk_crm_activity": [
        _activity(901, 2, 101, "打电话", 1, "2025-01-06 09:00"),
        _activity(902, 3, 201, "见面拜访", 2, "2025-02-12 14:00"),
        _activity(903, 5, 404, "发邮件", 2, "2025-03-11 07:30"),  # 07:30 in Shanghai is Mar 10 23:30 UTC
        _activity(904, 6, 501, "演示", 1, "2025-02-17 10:00"),
        _activity(905, 1, 77, "打电话", 1, "2025-02-18 10:00"),  # about a lead: not an activity
        _activity(906, 2, 101, "打电话", 1, "2025-02-19 10:00", status=0),  # not valid
        _record(951, 401, "将商机阶段变更为方案报价", "2025-02-01 10:00"),
        _record(952, 401, "赢单", "2025-02-15 09:30"),
        _record(953, 403, "无效", "2025-03-05 08:00"),
    ],
    "wk_crm_achievement": [
        {
            "achievement_id": 1001,
            "obj_id": 1,
            "type": 3,
            "year": "2025",
            "status": 1,
            **_months(january=10000, march=20000),
        },
        {"achievement_id": 1002, "obj_id": 1, "type": 3, "year": "2025", "status": 2, **_months(march=5000)},
        {"achievement_id": 1003, "obj_id": 0, "type": 1, "year": "2025", "status": 1, **_months(march=100000)},
    ],
    "wk_crm_return_visit": [
        {
            "visit_id": 1101,
            "customer_id": 101,
            "contract_id": 501,
            "owner_user_id": 1,
            "visit_time": ts("2025-03-03 10:00"),
            "batch_id": "v1101",
            "create_time": ts("2025-03-03 10:00"),
        },
        {
            "visit_id": 1102,
            "customer_id": 102,
            "contract_id": 503,
            "owner_user_id": 2,
            "visit_time": ts("2025-03-20 10:00"),
            "batch_id": "v1102",
            "create_time": ts("2025-03-20 10:00"),
        },
    ],
    "wk_crm_return_visit_data": VISIT_DATA,
}


def raw_statements(
    rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]], placeholder: str
) -> Iterator[tuple[str, list[Any]]]:
    """What the extract leaves in raw in wukong mode, as SQL both DuckDB and Postgres run: every 悟空CRM table with
    the given rows, and the contract's file-drop tables (fx_rates, marketing_spend) empty."""
    yield f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}", []
    for table in crm_wukong.SOURCE_TABLES:
        yield raw_table_ddl(table), []
        for row in rows_by_table.get(table.name, ()):
            names = [*row, LOAD_ID_COLUMN, LOADED_AT_COLUMN]
            columns = ", ".join(f'"{name}"' for name in names)
            placeholders = ", ".join(placeholder for _ in names)
            insert = f"INSERT INTO {RAW_SCHEMA}.{table.name} ({columns}) VALUES ({placeholders})"
            yield insert, [*row.values(), "fixture", LOADED_AT]
    for name in ("fx_rates", "marketing_spend"):
        yield raw_table_ddl(crm_contract.source_table(name)), []


def write_wukong_raw_tables(warehouse_path: Path, rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    with duckdb.connect(str(warehouse_path)) as con:
        for statement, params in raw_statements(rows_by_table, "?"):
            con.execute(statement, params)


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wukong") / "warehouse.duckdb"
    write_wukong_raw_tables(path, WUKONG)
    run_dbt(["build"], warehouse_path=path, as_of_date=AS_OF_DATE, extra_env=WUKONG_ENV)
    return path


CONTRACT_SHAPED = [table for table in crm_contract.SOURCE_TABLES if table.name not in ("fx_rates", "marketing_spend")]


@pytest.mark.parametrize("table", CONTRACT_SHAPED, ids=lambda table: table.name)
def test_each_contract_table_is_built_with_exactly_its_columns_and_types(
    warehouse: Path, table: crm_contract.SourceTable
) -> None:
    """The shared staging reads stg_wukong__<table> in place of raw.<table>: the same columns, order and types."""
    built = query(
        warehouse,
        "select column_name, data_type from information_schema.columns"
        f" where table_schema = 'staging' and table_name = 'stg_wukong__{table.name}' order by ordinal_position",
    )
    expected = [(column.name, duckdb_type(column)) for column in table.columns]
    assert built == [*expected, (LOAD_ID_COLUMN, "VARCHAR"), (LOADED_AT_COLUMN, "TIMESTAMP")]


def test_the_stage_catalogue_is_the_enabled_stage_group_then_won_and_lost(warehouse: Path) -> None:
    assert query(
        warehouse, "select stage, stage_order, win_probability from marts.dim_stages order by stage_order"
    ) == [
        ("验证客户", 1, Decimal("0.2000")),
        ("需求分析", 2, Decimal("0.3000")),
        ("方案报价", 3, Decimal("0.8000")),
        ("won", 4, Decimal("1.0000")),
        ("lost", None, Decimal("0.0000")),
    ]


def test_opportunities_close_as_won_lost_or_invalid_at_the_closing_record(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select opportunity_id, stage, status, loss_reason, created_at, closed_date, days_to_close, source"
        " from marts.fct_opportunities order by opportunity_id",
    )
    assert rows == [
        # closed by the 赢单 record Feb 15 09:30 Shanghai, not the stage record of Feb 1 nor the edit of Feb 20
        (401, "won", "won", None, ts("2025-01-10 02:00"), d("2025-02-15"), 36, "线上推广"),
        # no closing record: update_time Mar 1 12:00 Shanghai = 04:00 UTC
        (402, "lost", "lost", "价格太高", ts("2025-01-15 02:00"), d("2025-03-01"), 45, "电话营销"),
        # invalid: lost, whatever the remark says
        (403, "lost", "lost", "invalid", ts("2025-02-03 02:00"), d("2025-03-05"), 30, "线上推广"),
        (404, "需求分析", "open", None, ts("2025-03-10 02:00"), None, None, "电话营销"),
    ]
    assert query(warehouse, "select closed_at from marts.fct_opportunities where opportunity_id = 401") == [
        (ts("2025-02-15 01:30"),)
    ]


def test_win_rate_counts_invalid_opportunities_as_lost(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select month_start, won_opportunities, lost_opportunities, win_rate, won_amount"
        " from marts.mart_opportunity_kpis_monthly where month_start in ('2025-02-01', '2025-03-01') order by 1",
    )
    # February: 401 won (10000). March: 402 and 403 lost, none won → 0 / 2.
    assert rows == [
        (d("2025-02-01"), 1, 0, 1.0, Decimal("10000.00")),
        (d("2025-03-01"), 0, 2, 0.0, Decimal("0.00")),
    ]


def test_the_funnel_counts_the_stage_every_opportunity_entered_at_creation(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select stage, opportunities_reached, stage_conversion_rate from marts.mart_sales_funnel order by stage_order",
    )
    # All four entered 验证客户 at creation (the added first row); 需求分析: 401 and 404; 方案报价 and won: 401.
    assert rows == [("验证客户", 4, None), ("需求分析", 2, 0.5), ("方案报价", 1, 0.5), ("won", 1, 1.0)]


def test_stage_spells_start_at_creation_and_follow_the_changes(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select stage, entered_at, days_in_stage from marts.fct_opportunity_stage_history"
        " where opportunity_id = 401 order by spell_number",
    )
    # entered at creation 02:00 UTC; 10 days to Jan 20, 12 to Feb 1, then 方案报价 until the close on Feb 15.
    assert rows == [
        ("验证客户", ts("2025-01-10 02:00"), 10),
        ("需求分析", ts("2025-01-20 02:00"), 12),
        ("方案报价", ts("2025-02-01 02:00"), 14),
    ]


def test_only_approved_contracts_count(warehouse: Path) -> None:
    rows = query(warehouse, "select contract_id, amount, signed_date from marts.fct_contracts order by contract_id")
    # 502 is pending approval: not signed
    assert rows == [(501, Decimal("10000.00"), d("2025-02-16")), (503, Decimal("2000.00"), d("2025-03-20"))]


def test_voided_plans_and_unapproved_payments_count_nowhere(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select plan_id, due_amount, paid_amount, receivable_amount, aging_bucket"
        " from marts.mart_receivables_aging order by plan_id",
    )
    # 602 voided: no row. 603's payment 702 is not approved: nothing paid against it.
    assert rows == [
        (601, Decimal("5000.00"), Decimal("5000.00"), Decimal("0.00"), "current"),
        (603, Decimal("5000.00"), Decimal("0.00"), Decimal("5000.00"), "current"),
    ]
    assert query(warehouse, "select payment_id, amount from marts.fct_payments") == [(701, Decimal("5000.00"))]


def test_customers_take_level_region_and_address_from_their_custom_fields(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select customer_id, industry, province, city, region, level, source, is_public_pool"
        " from marts.dim_customers order by customer_id",
    )
    assert rows == [
        (101, "制造业", "上海", "上海市", "华东", "A", "线上推广", False),
        (102, "金融", "北京", "北京市", None, "B", "电话营销", False),
        (103, None, None, None, None, None, None, True),
    ]


def test_follow_ups_reach_their_customer_through_a_contact_an_opportunity_or_a_contract(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select activity_id, customer_id, opportunity_id, user_id, activity_type, occurred_at"
        " from marts.fct_activities order by activity_id",
    )
    assert rows == [
        (901, 101, None, 1, "call", ts("2025-01-06 01:00")),
        (902, 102, None, 2, "visit", ts("2025-02-12 06:00")),
        (903, 102, 404, 2, "email", ts("2025-03-10 23:30")),
        (904, 101, None, 1, "演示", ts("2025-02-17 02:00")),
    ]


def test_person_targets_are_unpivoted_by_month_and_zero_is_no_target(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select month_start, contract_amount_target, payment_amount_target, contract_amount"
        " from marts.mart_rep_performance_monthly where user_id = 1 order by month_start",
    )
    # Feb has a contract (501) but its target column is 0: no target. The company's 100000 is not Alice's.
    assert rows == [
        (d("2025-01-01"), Decimal("10000.00"), None, Decimal("0.00")),
        (d("2025-02-01"), None, None, Decimal("10000.00")),
        (d("2025-03-01"), Decimal("20000.00"), Decimal("5000.00"), Decimal("0.00")),
    ]


def test_satisfaction_words_become_scores(warehouse: Path) -> None:
    rows = query(
        warehouse, "select user_id, responses, avg_score from marts.mart_satisfaction_monthly order by user_id"
    )
    assert rows == [(1, 1, 5.0), (2, 1, 2.0)]


def test_no_marketing_spend_leaves_cac_null(warehouse: Path) -> None:
    rows = query(warehouse, "select count(*), count(cac) from marts.mart_lead_source_monthly")
    assert rows[0][0] > 0
    assert rows[0][1] == 0


def test_two_enabled_stage_groups_without_a_choice_stop_the_run_naming_them(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update raw.wk_crm_business_type set status = 1")
    result = run_dbt(
        ["run", "--select", "stg_wukong__stage_catalogue"],
        warehouse_path=copy,
        as_of_date=AS_OF_DATE,
        extra_env=WUKONG_ENV,
        check=False,
    )
    assert result.returncode != 0
    assert "2 enabled stage groups (默认商机组, 旧流程)" in result.stdout
    assert "CRM_WUKONG_STAGE_GROUP" in result.stdout

    chosen = run_dbt(
        ["run", "--select", "stg_wukong__stage_catalogue"],
        warehouse_path=copy,
        as_of_date=AS_OF_DATE,
        extra_env={**WUKONG_ENV, "CRM_WUKONG_STAGE_GROUP": "旧流程"},
    )
    assert chosen.returncode == 0
    assert query(copy, "select stage from staging.stg_wukong__stage_catalogue order by stage_order") == [
        ("旧阶段",),
        ("won",),
        ("lost",),
    ]


def test_postgres_builds_the_same_marts_from_the_same_wukong_tables(warehouse: Path, postgres: Server) -> None:
    database = postgres.create_database()
    create_reader_role(postgres, database)
    engine = sa.create_engine(postgres.url(database))
    try:
        with engine.begin() as con:
            for statement, params in raw_statements(WUKONG, "%s"):
                con.exec_driver_sql(statement, tuple(params))
    finally:
        engine.dispose()
    run_dbt(
        ["build"],
        warehouse_path=warehouse.parent / "postgres" / "unused.duckdb",
        as_of_date=AS_OF_DATE,
        extra_env={**WUKONG_ENV, **postgres_env(postgres, database)},
    )
    # every published model, each non-empty here, with the same rows (the mapping's SQL is portable)
    assert_same_published_rows(warehouse, "Postgres", partial(sqlalchemy_rows, postgres.url(database)))


def test_a_contract_approved_later_enters_the_incremental_facts_on_the_next_run(
    warehouse: Path, tmp_path: Path
) -> None:
    """502 is approved a week after the first run, and 701's approval is withdrawn: the next run's incremental facts
    take the one in and the other out, like any soft delete (fct_contracts and fct_payments are incremental)."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    reloaded_at = datetime(2025, 4, 7, 23, 0)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update raw.wk_crm_contract set check_status = 1, update_time = ?, _loaded_at = ? where contract_id = 502",
            [ts("2025-04-07 10:00"), reloaded_at],
        )
        con.execute(
            "update raw.wk_crm_receivables set check_status = 4, update_time = ?, _loaded_at = ?"
            " where receivables_id = 701",
            [ts("2025-04-07 10:00"), reloaded_at],
        )
    run_dbt(
        ["build", "--select", "+fct_contracts", "+fct_payments", "--exclude-resource-type", "unit_test"],
        warehouse_path=copy,
        as_of_date="2025-04-07",
        extra_env=WUKONG_ENV,
    )
    assert query(copy, "select contract_id from marts.fct_contracts order by 1") == [(501,), (502,), (503,)]
    assert query(copy, "select count(*) from marts.fct_payments") == [(0,)]
