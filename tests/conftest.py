import sys
from pathlib import Path

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
