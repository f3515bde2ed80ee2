"""The Postgres warehouse target: the whole project builds, its numbers equal DuckDB's, and readers only read; every
engine-dispatched macro passes its worked example on DuckDB and on Postgres (Spark: test_spark_warehouse.py).

One small simulated CRM (150 opportunities, tests/dbt/conftest.py) is loaded by each engine's raw loader and
built with `dbt build` on DuckDB and on a real Postgres server (tests/support/servers.py).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from orchestration.settings import DBT_PROJECT_DIR
from tests.support.servers import Server
from tests.support.warehouses import (
    READER_PASSWORD,
    EngineCrm,
    assert_every_dispatched_macro_passed,
    assert_same_published_rows,
    duckdb_models,
    sqlalchemy_rows,
)


@pytest.fixture(scope="module")
def built(engine_crm: EngineCrm, postgres_warehouse: str) -> tuple[Path, str]:
    """(DuckDB warehouse file, Postgres warehouse URL) built from the same CRM (tests/dbt/conftest.py).

    Compared: every column but the load time (each engine's loader stamps its own).
    """
    return engine_crm.duckdb_warehouse, postgres_warehouse


def test_every_published_model_has_identical_rows_on_duckdb_and_postgres(built):
    warehouse, postgres_url = built
    assert_same_published_rows(warehouse, "Postgres", partial(sqlalchemy_rows, postgres_url))


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_every_dispatched_macro_passes_its_test(engine: str, built, engine_crm: EngineCrm):
    assert_every_dispatched_macro_passed(engine_crm.folder / engine)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO marts.dim_stages (stage) VALUES ('x')",
        "UPDATE marts.dim_stages SET stage = 'x'",
        "DELETE FROM marts.dim_stages",
        "CREATE TABLE marts.scratch (x int)",
        "CREATE TABLE public.scratch (x int)",
        "SELECT count(*) FROM raw.opportunities",
    ],
)
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


# Postgres truncates, or refuses, identifiers over 63 bytes (NAMEDATALEN - 1); dbt names a unit test's scratch
# table after the unit test, and a relation after its model, snapshot or seed.
POSTGRES_MAX_IDENTIFIER = 63


def test_every_relation_and_unit_test_name_fits_a_postgres_identifier():
    """Without this, a long unit-test name fails only when `dbt build` runs on Postgres ("Relation name ... is
    longer than 63 characters"); read from the project's files, so every source system's models count."""
    names = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    names |= {path.stem for path in (DBT_PROJECT_DIR / "seeds").rglob("*.csv")}
    unit_tests = set()
    for path in [*(DBT_PROJECT_DIR / "models").rglob("*.yml"), *(DBT_PROJECT_DIR / "snapshots").rglob("*.yml")]:
        declared = yaml.safe_load(path.read_text()) or {}
        names |= {snapshot["name"] for snapshot in declared.get("snapshots") or []}
        unit_tests |= {unit_test["name"] for unit_test in declared.get("unit_tests") or []}
    assert len(unit_tests) > 40 and len(names) > 60  # the files were found
    too_long = sorted(name for name in names | unit_tests if len(name.encode()) > POSTGRES_MAX_IDENTIFIER)
    assert not too_long, f"over {POSTGRES_MAX_IDENTIFIER} characters, Postgres refuses them: {too_long}"


def _reader_url(server: Server, warehouse_url: str) -> str:
    return server.url(sa.engine.make_url(warehouse_url).database, user="crm_reader", password=READER_PASSWORD)
