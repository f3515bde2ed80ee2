"""Every SQL query of docs/analyst-guide.md runs against a published file built by the real pipeline.

A small simulated CRM, then `crm-warehouse run` in a subprocess (its own Dagster definitions and environment,
whatever else this pytest process has imported), then each ```sql block of the guide on the published copy,
opened read-only as an analyst would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

import simulator

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "analyst-guide.md"
SIMULATED_END = date(2026, 6, 30)
QUESTIONS = [
    "Which channel converts best?",
    "Where do deals stall?",
    "Who is behind target?",
    "What is overdue?",
    "Which customers are forgotten?",
]


def guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture(scope="module")
def published_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("analyst_guide")
    source_url = f"sqlite:///{data_dir / 'crm.sqlite'}"
    simulator.generate(source_url, opportunities=300, seed=7, end_date=SIMULATED_END, quiet=True)
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(data_dir),
        "CRM_SOURCE_URL": source_url,
        "CRM_WAREHOUSE_PATH": str(data_dir / "warehouse.duckdb"),
        "CRM_PUBLISHED_PATH": str(data_dir / "published" / "crm.duckdb"),
        "CRM_AS_OF_DATE": SIMULATED_END.isoformat(),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }
    result = subprocess.run([sys.executable, "-m", "orchestration.cli", "run"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"crm-warehouse run failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return data_dir / "published" / "crm.duckdb"


def test_the_guide_answers_each_question_of_the_sales_articles() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.*)$", text, flags=re.MULTILINE)
    for question in QUESTIONS:
        assert any(heading.startswith(question) for heading in headings), f"no section for {question!r}"
    assert len(guide_queries()) >= len(QUESTIONS)


@pytest.mark.parametrize("query", guide_queries(), ids=lambda q: " ".join(q.split())[:60])
def test_every_guide_query_runs_on_the_published_file(published_path: Path, query: str) -> None:
    with duckdb.connect(str(published_path), read_only=True) as con:
        cursor = con.execute(query)
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    assert columns
    assert rows, "the query returned no rows on the simulated CRM: it answers nothing there"
