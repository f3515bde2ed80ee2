"""The BI tests read the session's clean pipeline (tests/support/pipeline.py) and never change it."""

from tests.support.old_duckdb import old_duckdb  # noqa: F401  (session fixture: an older DuckDB in its own venv)
