"""Every adapter.dispatch macro (dbt_project/macros) passes its worked example on every engine.

The examples are singular dbt tests (dbt_project/tests/macros) that `dbt build` runs with the project; here we
check that each ran and passed in each engine's build of the shared simulated CRM (tests/dbt/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.support.dbt import DBT_PROJECT_DIR
from tests.support.warehouses import EngineCrm, macro_test_results

MACRO_TESTS = sorted(path.stem for path in (DBT_PROJECT_DIR / "tests" / "macros").glob("*.sql"))


@pytest.mark.parametrize("engine", ["duckdb", "postgres", pytest.param("spark", marks=pytest.mark.spark)])
def test_every_dispatched_macro_passes_its_test(engine: str, engine_crm: EngineCrm, request: pytest.FixtureRequest):
    if engine != "duckdb":
        request.getfixturevalue(f"{engine}_warehouse")  # built once for the session
    results = macro_test_results(engine_crm.folder / engine / "dbt_target")
    assert len(MACRO_TESTS) >= 6
    assert results == {name: "pass" for name in MACRO_TESTS}
