"""Every SQL query of docs/analyst-guide.md runs against a published file built by the real pipeline: the
session's simulated CRM after one crm_elt run (tests/support/pipeline.py), each ```sql block of the guide on the
published copy, opened read-only as an analyst would.
"""

from __future__ import annotations

import re
import shutil
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
    "Who is behind pace and has no pipeline to catch up?",
    "Which deals slipped?",
    "What is overdue?",
    "Which customers are forgotten?",
]
# A query carrying this comment reads the snapshot history, which one run of the pipeline has not built up.
NEEDS_HISTORY = "-- needs snapshot history"


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
    if NEEDS_HISTORY not in query:  # the session's CRM went through one run: no history to answer from yet
        assert rows, "the query returned no rows on the simulated CRM: it answers nothing there"


def test_the_slipped_more_than_twice_query_lists_exactly_the_deals_pushed_three_times_or_more(
    published_path: Path, tmp_path: Path
) -> None:
    """After one run no deal has been pushed; a copy of the published file where two deals have been pushed three
    and two times stands for the history of later runs: only the first is listed."""
    (query,) = [query for query in guide_queries() if "close_date_pushes > 2" in query]
    copy = Path(shutil.copy(published_path, tmp_path / "crm.duckdb"))
    with duckdb.connect(str(copy)) as con:
        three_times, twice = [
            row[0]
            for row in con.execute(
                "select opportunity_id from marts.mart_opportunity_slippage order by opportunity_id limit 2"
            ).fetchall()
        ]
        con.execute(
            "update marts.mart_opportunity_slippage set close_date_pushes = case opportunity_id when ? then 3 else 2 end"
            " where opportunity_id in (?, ?)",
            [three_times, three_times, twice],
        )
        assert [row[0] for row in con.execute(query).fetchall()] == [three_times]
