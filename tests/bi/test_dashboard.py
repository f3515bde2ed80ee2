"""The static dashboard written after the publish: it renders offline in a browser, every panel has data, and
the briefing prints the mart's own numbers."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from PIL import Image, ImageStat

from orchestration.dashboard.asset import DASHBOARD_KEY, dashboard_dir_of
from tests.support.chromium import RenderedPage, render
from tests.support.pipeline import Pipeline, failure_messages

PANELS = [
    "briefing",
    "rep_targets",
    "target_pacing",
    "funnel",
    "pipeline_movement",
    "slipped_deals",
    "rankings",
    "forgotten_customers",
    "receivables",
    "customer_profile",
    "product_sales",
    "deal_cycle",
    "satisfaction",
]
BRIEFING_MONEY = ["contract_amount", "payment_amount", "mtd_contract_amount", "month_contract_target"]
BRIEFING_COUNTS = ["new_customers", "new_contacts", "new_opportunities"]


class PanelParser(HTMLParser):
    """Each `section.panel` of the page: its classes, table rows, chart source and headline numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: dict[str, dict] = {}
        self.current: dict | None = None
        self.metric: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section" and "panel" in (attributes.get("class") or "").split():
            self.current = {
                "classes": attributes["class"].split(),
                "rows": int(attributes["data-rows"]),
                "images": [],
                "headlines": {},
            }
            self.panels[attributes["id"]] = self.current
        elif self.current is not None and tag == "img":
            self.current["images"].append(attributes.get("src") or "")
        elif self.current is not None and tag == "dd":
            self.metric = attributes.get("data-metric")

    def handle_data(self, data: str) -> None:
        if self.current is not None and self.metric:
            self.current["headlines"][self.metric] = data.strip()
            self.metric = None


@pytest.fixture(scope="module")
def dashboard_dir(clean_pipeline: Pipeline) -> Path:
    return dashboard_dir_of(clean_pipeline.published_path)


@pytest.fixture(scope="module")
def rendered(dashboard_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RenderedPage:
    return render(dashboard_dir / "index.html", tmp_path_factory.mktemp("chromium_profile"))


@pytest.fixture(scope="module")
def panels(rendered: RenderedPage) -> dict[str, dict]:
    parser = PanelParser()
    parser.feed(rendered.dom)
    return parser.panels


def test_the_page_renders_in_headless_chromium_without_console_errors(rendered: RenderedPage) -> None:
    assert "<h1>CRM sales dashboard</h1>" in rendered.dom
    assert rendered.console == []


def test_every_panel_shows_a_chart_and_rows_of_data(panels: dict[str, dict]) -> None:
    assert list(panels) == PANELS
    for key, panel in panels.items():
        assert "broken" not in panel["classes"], f"{key}: its chart did not decode in the browser"
        assert len(panel["images"]) == 1 and panel["images"][0].startswith("data:image/png;base64,"), key
        assert panel["rows"] > 0, f"{key}: no rows in its table"


def test_the_page_fetches_nothing(dashboard_dir: Path) -> None:
    """Works offline: no script, stylesheet, image or font from anywhere but the page itself."""
    page = (dashboard_dir / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", page)
    assert "http://" not in page and "https://" not in page


@pytest.mark.parametrize("key", PANELS)
def test_each_panel_png_is_not_blank(dashboard_dir: Path, key: str) -> None:
    """Pixels vary, and some are coloured: the chart drew bars or lines, not only empty axes."""
    image = Image.open(dashboard_dir / f"{key}.png").convert("RGB")
    saturated = sum(image.convert("HSV").getchannel("S").histogram()[51:]) / (image.width * image.height)
    assert ImageStat.Stat(image.convert("L")).var[0] > 500, key
    assert saturated > 0.005, f"{key}: only {saturated:.2%} of the pixels are coloured"


def test_the_briefing_prints_the_marts_numbers(clean_pipeline: Pipeline, panels: dict[str, dict]) -> None:
    with duckdb.connect(str(clean_pipeline.published_path), read_only=True) as con:
        cursor = con.execute("select * from marts.mart_sales_briefing_daily order by date_day desc limit 1")
        names = [column[0] for column in cursor.description]
        today = dict(zip(names, cursor.fetchone()))
    printed = panels["briefing"]["headlines"]
    for metric in BRIEFING_MONEY:
        assert float(printed[metric].replace(",", "")) == pytest.approx(float(today[metric] or 0), abs=0.005), metric
    for metric in BRIEFING_COUNTS:
        assert int(printed[metric].replace(",", "")) == today[metric], metric
    assert float(printed["mtd_target_completion"].rstrip("%")) == pytest.approx(
        float(today["mtd_target_completion"]) * 100, abs=0.05
    )
    assert float(today["mtd_contract_amount"]) > 0, "the simulated month has contracts: the check compares real figures"


def test_the_pacing_panel_prints_the_teams_pace_and_coverage_and_lists_every_rep_with_a_target(
    clean_pipeline: Pipeline, panels: dict[str, dict]
) -> None:
    with duckdb.connect(str(clean_pipeline.published_path), read_only=True) as con:
        reps, signed, expected, due, remaining = con.execute(
            "select count(*), sum(contract_amount), sum(expected_to_date), sum(pipeline_due_amount),"
            " sum(remaining_target) from marts.mart_target_pacing"
        ).fetchone()
    assert reps > 0 and expected > 0 and remaining > 0, (
        "the simulated month has targets: the check compares real figures"
    )
    printed = panels["target_pacing"]["headlines"]
    assert float(printed["pacing_ratio"].rstrip("%")) == pytest.approx(float(signed / expected) * 100, abs=0.05)
    assert float(printed["coverage_ratio"].rstrip("%")) == pytest.approx(float(due / remaining) * 100, abs=0.05)
    assert panels["target_pacing"]["rows"] == reps


def test_the_movement_panel_shows_the_last_twelve_months_and_the_slipped_deals_those_past_due(
    clean_pipeline: Pipeline, panels: dict[str, dict]
) -> None:
    with duckdb.connect(str(clean_pipeline.published_path), read_only=True) as con:
        (months,) = con.execute("select count(*) from marts.mart_pipeline_movement_monthly").fetchone()
        (past_due,) = con.execute("select count(*) from marts.mart_opportunity_slippage where is_past_due").fetchone()
    assert panels["pipeline_movement"]["rows"] == min(months, 12)
    assert past_due > 0, "the simulated CRM has deals past due: the table lists real ones"
    assert panels["slipped_deals"]["headlines"]["is_past_due"] == f"{past_due:,}"
    assert panels["slipped_deals"]["rows"] == min(past_due, 20)


def test_the_demo_headline_has_the_months_pacing_and_coverage_for_the_team(
    clean_pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import print_headlines

    with duckdb.connect(str(clean_pipeline.published_path), read_only=True) as con:
        pacing, coverage = con.execute(
            "select sum(contract_amount) / sum(expected_to_date), sum(pipeline_due_amount) / sum(remaining_target)"
            " from marts.mart_target_pacing"
        ).fetchone()
    print_headlines(clean_pipeline.published_path)
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("pacing ")]
    assert f"{float(pacing):.0%} of the linear pace" in line and f"coverage {float(coverage):.0%}" in line, line


def test_the_dashboard_asset_reports_its_path_and_a_preview(clean_pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline = clean_pipeline.copy_to(tmp_path / "data")
    # The dashboard is published with the marts, as one version: both are materialized together.
    result = pipeline.run(asset_selection=[dg.AssetKey(["published", "crm_warehouse"]), DASHBOARD_KEY])
    assert result.success, failure_messages(result)
    (materialization,) = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.materialization.asset_key == DASHBOARD_KEY
    ]
    metadata = materialization.metadata
    assert metadata["path"].value == str(dashboard_dir_of(pipeline.published_path) / "index.html")
    assert Path(metadata["path"].value).is_file()
    preview = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", metadata["preview"].value)
    assert preview and base64.b64decode(preview.group(1)).startswith(b"\x89PNG")
    assert Path(metadata["preview_png"].value).read_bytes() == base64.b64decode(preview.group(1))
    assert sorted(metadata["panels"].value) == sorted(PANELS)
