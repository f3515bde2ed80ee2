"""Every SQL query of docs/analyst-guide.md runs against a published file built by the real pipeline: the
session's simulated CRM after one crm_elt run (tests/support/pipeline.py), each ```sql block of the guide on the
published copy, opened read-only as an analyst would.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.support.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "analyst-guide.md"
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
def published_path(clean_pipeline: Pipeline) -> Path:
    """The published file of the session's simulated CRM (tests/support/pipeline.py): read only."""
    return clean_pipeline.published_path


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
