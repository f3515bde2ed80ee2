import sys
from collections import Counter
from pathlib import Path

import pytest

# pyspark (the optional Spark target), imported by Great Expectations, takes a `__main__` without `__file__` for a
# doctest run and exits the process when Spark Connect's packages are missing; pytest-xdist's worker processes have
# such a `__main__`. Give it a name (UPGRADING.md).
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest-xdist worker>"

# Tests import the project's packages and tests.support from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.pipeline import clean_pipeline, clean_pipeline_run  # noqa: E402,F401  (session: one crm_elt run)
from tests.support.servers import mariadb, postgres  # noqa: E402,F401  (session fixtures: real servers)

# The modules whose fixtures take minutes of one core (the pipelines they run; docs/testing.md has the figures),
# costliest first. pytest-xdist hands whole modules to the cores in the order of the collection (`--dist loadfile`;
# its own reordering, by number of tests, is turned off in pyproject.toml because it put these modules, which have
# few tests, last): they start first, and the cores end together on short modules instead of one core running a
# six-minute module alone at the end of CI. The other modules follow by number of tests, as xdist would order them.
COSTLIEST_MODULES = (
    "tests/orchestration/test_wukong_equivalence.py",
    "tests/orchestration/test_crash_points.py",
    "tests/orchestration/test_salesforce_equivalence.py",
    "tests/orchestration/test_daily_runs.py",
    "tests/dbt/test_spark_warehouse.py",
    "tests/bench/test_benchmark.py",
    "tests/orchestration/test_spark_job.py",
    "tests/bi/test_superset.py",
    "tests/dbt/test_sql_lint.py",
    "tests/quality/test_defects.py",
    "tests/quality/test_gate_2_rules.py",
    "tests/orchestration/test_postgres_job.py",
    "tests/dbt/test_postgres_warehouse.py",
    "tests/dbt/test_wukong_mapping.py",
    "tests/orchestration/test_crm_elt_job.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The costliest modules first, in COSTLIEST_MODULES' order; then the others, most tests first."""
    root = config.rootpath
    if missing := [path for path in COSTLIEST_MODULES if not (root / path).is_file()]:
        raise pytest.UsageError(f"tests/conftest.py COSTLIEST_MODULES names modules that do not exist: {missing}")
    rank = {path: n for n, path in enumerate(COSTLIEST_MODULES)}
    tests_in = Counter(item.path for item in items)

    def module_order(item: pytest.Item) -> tuple[int, int]:
        try:
            module = item.path.relative_to(root).as_posix()
        except ValueError:  # an item outside the repository (a plugin's)
            module = ""
        return rank.get(module, len(rank)), -tests_in[item.path]

    items.sort(key=module_order)  # stable: a module's tests keep their order, and stay together
