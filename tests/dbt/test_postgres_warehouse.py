"""The Postgres warehouse target: the whole project builds, its numbers equal DuckDB's, and readers only read.

One small simulated CRM (150 opportunities) is loaded by each engine's raw loader and built with
`dbt build` on DuckDB and on a real Postgres server (tests/support/servers.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

import simulator
from tests.support.servers import Server
from tests.support.warehouses import (
    build_duckdb, build_postgres, compared_columns, differences, duckdb_models, duckdb_rows, sqlalchemy_rows,
)

END_DATE = date(2026, 6, 30)
READER_PASSWORD = "reader-test-password"


@pytest.fixture(scope="module")
def built(postgres: Server, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(DuckDB warehouse file, Postgres warehouse URL) built from the same CRM.

    Compared: every column but the load time (each engine's loader stamps its own).
    """
    folder = tmp_path_factory.mktemp("engines")
    source_url = f"sqlite:///{folder / 'crm.sqlite'}"
    simulator.generate(source_url, opportunities=150, seed=21, end_date=END_DATE, quiet=True)
    database = postgres.create_database()
    admin = sa.create_engine(postgres.url(database), isolation_level="AUTOCOMMIT")
    with admin.connect() as con:  # an operator creates the reader role once; dbt grants it the marts
        con.exec_driver_sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_reader') THEN "
                            f"CREATE ROLE crm_reader LOGIN PASSWORD '{READER_PASSWORD}'; END IF; END $$")
    admin.dispose()
    warehouse = build_duckdb(source_url, folder / "duckdb", END_DATE.isoformat())
    build_postgres(source_url, postgres, database, folder / "postgres", END_DATE.isoformat())
    return warehouse, postgres.url(database)


def test_every_published_model_has_identical_rows_on_duckdb_and_postgres(built):
    warehouse, postgres_url = built
    models = duckdb_models(warehouse)
    assert "mart_sales_funnel" in models and "fct_opportunities" in models
    for model in models:
        columns = compared_columns(warehouse, model)
        duck, pg = duckdb_rows(warehouse, model, columns), sqlalchemy_rows(postgres_url, model, columns)
        assert duck, f"marts.{model} is empty: the comparison would prove nothing"
        diff = differences(duck, pg)
        assert not diff, f"marts.{model}: DuckDB and Postgres differ, e.g. {diff[0][0]} vs {diff[0][1]}"


@pytest.mark.parametrize("statement", [
    "INSERT INTO marts.dim_stages (stage) VALUES ('x')",
    "UPDATE marts.dim_stages SET stage = 'x'",
    "DELETE FROM marts.dim_stages",
    "CREATE TABLE marts.scratch (x int)",
    "CREATE TABLE public.scratch (x int)",
    "SELECT count(*) FROM raw.opportunities",
])
def test_the_reader_role_is_denied_writes_and_the_raw_schema(built, postgres, statement):
    reader = sa.create_engine(_reader_url(postgres, built[1]))
    try:
        with reader.connect() as con, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            con.exec_driver_sql(statement)
    finally:
        reader.dispose()


def test_the_reader_role_selects_every_published_model(built, postgres):
    warehouse, postgres_url = built
    reader = sa.create_engine(_reader_url(postgres, postgres_url))
    try:
        with reader.connect() as con:
            for model in duckdb_models(warehouse):
                con.exec_driver_sql(f'SELECT count(*) FROM marts."{model}"').scalar_one()
    finally:
        reader.dispose()


def _reader_url(server: Server, warehouse_url: str) -> str:
    return server.url(sa.engine.make_url(warehouse_url).database, user="crm_reader", password=READER_PASSWORD)
