"""crm_elt on CRM_WAREHOUSE_TARGET=postgres: extract, gate 1, dbt, gate 2 and publish all follow the variable.

The CRM is the clean pipeline's own (tests/support/pipeline.py), so the `marts` schema Postgres publishes must hold
the very rows of the DuckDB published file. A real Postgres server on 127.0.0.1 (tests/support/servers.py).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.pipeline import Pipeline, failure_messages, materialization_metadata, shipped_gates
from tests.support.servers import Server
from tests.support.warehouses import (
    READER_PASSWORD,
    assert_same_published_rows,
    create_reader_role,
    postgres_env,
    sqlalchemy_rows,
)


@dataclass(frozen=True)
class PostgresPipeline:
    pipeline: Pipeline
    server: Server
    database: str

    @property
    def url(self) -> str:
        return self.server.url(self.database)

    def environment(self) -> dict[str, str]:
        return postgres_env(self.server, self.database)

    def run(self):
        return self.pipeline.run(environment=self.environment())

    def rows(self, sql: str, *, user: str | None = None, password: str | None = None) -> list[tuple]:
        engine = sa.create_engine(self.server.url(self.database, user=user, password=password))
        try:
            with engine.connect() as con:
                return [tuple(row) for row in con.exec_driver_sql(sql)]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def on_postgres(clean_pipeline: Pipeline, postgres: Server, tmp_path_factory: pytest.TempPathFactory):
    """The clean pipeline's CRM taken through crm_elt twice on Postgres (the second run swaps over published marts)."""
    folder = tmp_path_factory.mktemp("postgres_job")
    shutil.copy(clean_pipeline.data_dir / "crm.sqlite", folder / "crm.sqlite")
    database = postgres.create_database()
    create_reader_role(postgres, database)
    target = PostgresPipeline(Pipeline(folder, as_of=clean_pipeline.as_of), postgres, database)
    first = target.run()
    assert first.success, failure_messages(first)
    second = target.run()
    assert second.success, failure_messages(second)
    return target, first, second


def test_every_published_model_on_postgres_has_the_rows_of_the_duckdb_published_file(on_postgres, clean_pipeline):
    target, _, _ = on_postgres
    assert_same_published_rows(
        clean_pipeline.published_path, "Postgres (crm_elt)", partial(sqlalchemy_rows, target.url)
    )


def test_the_job_wrote_no_duckdb_warehouse_and_left_no_build_schema(on_postgres):
    target, _, second = on_postgres
    assert not target.pipeline.warehouse_path.exists() and not target.pipeline.published_path.exists()
    schemas = {name for (name,) in target.rows("select nspname from pg_namespace")}
    assert {"raw", "landing", "staging", "snapshots", "marts"} <= schemas and "marts_next" not in schemas
    published = materialization_metadata(second, "published", "crm_warehouse")
    assert published["schema"] == "marts" and published["carried_over"] == []
    assert (
        published["row_counts"]["fct_opportunities"]
        == target.rows("select count(*) from marts.fct_opportunities")[0][0]
        > 0
    )


def test_the_second_run_extracted_only_the_look_back_window_and_merged_it_onto_itself(on_postgres):
    target, first, second = on_postgres
    assert materialization_metadata(first, "landing", "opportunities")["mode"] == "full_refresh"
    landed = materialization_metadata(second, "landing", "opportunities")
    merged = materialization_metadata(second, "raw", "opportunities")
    assert landed["mode"] == "incremental" and merged["rows_inserted"] == 0
    with sqlite3.connect(target.pipeline.data_dir / "crm.sqlite") as crm:
        (in_source,) = crm.execute("select count(*) from opportunities").fetchone()
    assert target.rows("select count(*), count(distinct opportunity_id) from raw.opportunities")[0] == (
        in_source,
        in_source,
    )


def test_the_reader_role_reads_the_published_marts_and_nothing_else(on_postgres):
    target, _, _ = on_postgres
    as_reader = partial(target.rows, user="crm_reader", password=READER_PASSWORD)
    assert as_reader("select count(*) from marts.mart_sales_funnel")[0][0] > 0
    for statement in (
        "select count(*) from raw.opportunities",
        "delete from marts.dim_stages",
        "create table marts.scratch (x int)",
    ):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            as_reader(statement)


def test_gate_2_on_postgres_names_the_mart_rule_and_key_of_a_broken_row(on_postgres):
    from orchestration.quality.gates import run_gate_2
    from orchestration.resources import WarehouseResource

    target, _, _ = on_postgres
    engine = sa.create_engine(target.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            con.exec_driver_sql("create schema gate_2_probe")  # a build schema: the gate reads other marts there too
            for model in ("mart_sales_funnel", "fct_opportunities"):
                con.exec_driver_sql(f"create table gate_2_probe.{model} as table marts.{model}")
            con.exec_driver_sql(  # more reached qualified than contacted: the funnel grows
                "update gate_2_probe.mart_sales_funnel set opportunities_reached = opportunities_reached + 1000 "
                "where stage = 'qualified'"
            )
    finally:
        engine.dispose()
    server = target.server
    warehouse = WarehouseResource(
        target="postgres",
        path="",
        published_path="",
        marts_schema="gate_2_probe",
        pg_host=server.host,
        pg_port=server.port,
        pg_dbname=target.database,
        pg_user=server.user,
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CRM_PG_PASSWORD", server.password)
        run = run_gate_2(
            warehouse,
            docs_dir=target.pipeline.docs_dir,
            docs_keep_days=30,
            gates=shipped_gates(),
            models=[("marts", "mart_sales_funnel")],
            run_name="gate-2-probe",
        )
    failed = [(o.rule.name, o.sample_keys) for o in run.outcomes if not o.passed]
    assert failed == [("funnel_never_increases", [{"stage": "qualified"}])], failed
    assert any(o.blocks for o in run.outcomes)


def test_a_gate_1_failure_on_postgres_moves_no_row_no_watermark_and_no_mart(on_postgres):
    target, _, _ = on_postgres
    state = "select table_name, watermark from raw._extract_state order by table_name"
    before = (
        target.rows(state),
        target.rows("select count(*) from raw.opportunities"),
        target.rows("select sum(opportunities_reached) from marts.mart_sales_funnel"),
    )
    with sqlite3.connect(target.pipeline.data_dir / "crm.sqlite") as crm:  # an opportunity of no known customer
        columns = [row[1] for row in crm.execute("pragma table_info(opportunities)")]
        copied = {"opportunity_id": "opportunity_id + 1000000", "customer_id": "999999"}
        crm.execute(
            f"insert into opportunities ({', '.join(columns)}) select "
            f"{', '.join(copied.get(c, c) for c in columns)} from opportunities order by updated_at desc limit 1"
        )
    result = target.run()
    assert not result.success
    message = "\n".join(failure_messages(result).values())
    assert "raw.opportunities: rule customer_id_resolves (ERROR) 1 row(s) break it" in message
    assert "'opportunity_id': " in message
    after = (
        target.rows(state),
        target.rows("select count(*) from raw.opportunities"),
        target.rows("select sum(opportunities_reached) from marts.mart_sales_funnel"),
    )
    assert after == before


def test_publishing_a_partial_build_carries_the_other_models_over_and_refuses_a_model_it_cannot_find(postgres):
    import psycopg2

    from orchestration.publish import PublishError, publish_schema
    from orchestration.warehouse_sql import PostgresSession

    database = postgres.create_database()
    create_reader_role(postgres, database)
    con = psycopg2.connect(
        host=postgres.host, port=postgres.port, user=postgres.user, password=postgres.password, dbname=database
    )
    try:
        session = PostgresSession(con)
        for statement in (
            "create schema marts",
            "create table marts.fresh as select 1 as version",
            "create table marts.kept as select 1 as version",
            "create schema marts_next",
            "create table marts_next.fresh as select 2 as version",
        ):
            session.execute(statement)
        with pytest.raises(PublishError, match=r"lack \['absent'\]"):
            publish_schema(session, ["fresh", "kept", "absent"], "marts_next", "crm_reader")
        published = publish_schema(session, ["fresh", "kept"], "marts_next", "crm_reader")
        assert published.carried_over == ["kept"] and published.row_counts == {"fresh": 1, "kept": 1}
        assert session.rows("select (select version from marts.fresh), (select version from marts.kept)") == [(2, 1)]
        assert session.rows("select count(*) from pg_namespace where nspname = 'marts_next'") == [(0,)]
    finally:
        con.close()
    reader = PostgresPipeline(Pipeline(Path(".")), postgres, database)
    assert reader.rows("select version from marts.kept", user="crm_reader", password=READER_PASSWORD) == [(1,)]
