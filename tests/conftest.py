import sys
from pathlib import Path

# Tests import the project's packages and tests.support from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.pipeline import clean_pipeline, clean_pipeline_run  # noqa: E402,F401  (session: one crm_elt run)
from tests.support.servers import mariadb, postgres  # noqa: E402,F401  (session fixtures: real servers)
