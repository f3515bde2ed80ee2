"""The dashboard as files: one self-contained HTML page plus one PNG per panel.

The page inlines its CSS and every chart (PNG as a data: URI): it opens from disk, offline, with no server and
nothing fetched. Its only script reports a chart that failed to decode, in the page and on the console.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb

from orchestration.dashboard.panel import Panel
from orchestration.dashboard.panels import PANELS

PAGE_NAME = "index.html"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 1rem 2rem; color: #222; }
header p { color: #555; }
section.panel { border: 1px solid #ddd; border-radius: 6px; margin: 1.5rem 0; padding: 1rem 1.5rem; }
section.panel.broken { border-color: #d62728; }
section.panel img { max-width: 100%; height: auto; }
dl.headlines { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 0.5rem 0 1rem; }
dl.headlines div { background: #f3f6fa; border-radius: 4px; padding: 0.5rem 0.8rem; min-width: 10rem; }
dl.headlines dt { font-size: 0.8rem; color: #555; }
dl.headlines dd { font-size: 1.3rem; font-weight: 600; margin: 0; }
details { margin-top: 0.5rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #eee; padding: 0.2rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
"""

CHECK_CHARTS = """
window.addEventListener("load", () => {
  for (const image of document.querySelectorAll("section.panel img")) {
    if (!image.complete || image.naturalWidth === 0) {
      image.closest("section").classList.add("broken");
      console.error("dashboard chart did not render: " + image.alt);
    }
  }
});
"""


@dataclass(frozen=True)
class Dashboard:
    page: Path
    charts: dict[str, Path]  # panel key → PNG


def png_bytes(panel: Panel) -> bytes:
    buffer = io.BytesIO()
    panel.figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_panel(panel: Panel, png: bytes) -> str:
    headlines = "".join(
        f'<div><dt>{escape(h.label)}</dt><dd data-metric="{escape(h.metric)}">{escape(h.text)}</dd></div>'
        for h in panel.headlines
    )
    header = "".join(f"<th>{escape(column)}</th>" for column in panel.table.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in panel.table.rows)
    return f"""
<section class="panel" id="{panel.key}" data-rows="{len(panel.table.rows)}">
  <h2>{escape(panel.title)}</h2>
  <p>{escape(panel.caption)}</p>
  {f'<dl class="headlines">{headlines}</dl>' if headlines else ""}
  <img alt="{escape(panel.title)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">
  <details{" open" if len(panel.table.rows) <= 12 else ""}><summary>The figures ({len(panel.table.rows)} rows)</summary>
    <table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>
  </details>
</section>"""


def write_dashboard(published_path: Path, folder: Path) -> Dashboard:
    """Draw every panel from the published file (opened read-only) into `folder`."""
    charts: dict[str, Path] = {}
    sections: list[str] = []
    with duckdb.connect(str(published_path), read_only=True) as con:
        for draw in PANELS:
            panel = draw(con)
            png = png_bytes(panel)
            charts[panel.key] = folder / f"{panel.key}.png"
            charts[panel.key].write_bytes(png)
            sections.append(render_panel(panel, png))
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = folder / PAGE_NAME
    page.write_text(
        f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>CRM sales dashboard</title>
<style>{STYLE}</style>
</head>
<body>
<header>
  <h1>CRM sales dashboard</h1>
  <p>From the published warehouse {escape(published_path.name)}, written {written}. Money is in the reporting
  currency; definitions in docs/domain.md.</p>
</header>
{"".join(sections)}
<script>{CHECK_CHARTS}</script>
</body>
</html>
""",
        encoding="utf-8",
    )
    return Dashboard(page=page, charts=charts)
