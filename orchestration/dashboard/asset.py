"""The dashboard as part of the publish step (orchestration/publish.py): drawn from the new published file.

It reads the published file, not the warehouse, so it shows exactly what analysts see, and it is drawn into
the new version's `dashboard/` before that version is swapped in: the page never shows other numbers than
the file beside it.
"""

import base64
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration import published_folder
from orchestration.crash_points import crash_point

DASHBOARD_KEY = dg.AssetKey(["published", "dashboard"])
PREVIEW_PANEL = "briefing"


def dashboard_dir_of(published_path: Path) -> Path:
    """`dashboard/` beside the published file: index.html and one PNG per panel."""
    return published_path.parent / published_folder.DASHBOARD


@dataclass(frozen=True)
class DrawnDashboard:
    page_name: str
    charts: dict[str, str]  # panel key -> PNG file name
    preview_png: bytes

    def page_in(self, published_path: Path) -> Path:
        return dashboard_dir_of(published_path) / self.page_name

    def metadata(self, published_path: Path) -> dict[str, dg.MetadataValue]:
        """Paths as readers use them (through the published folder's links), and the briefing inline."""
        folder, page = dashboard_dir_of(published_path), self.page_in(published_path)
        preview = base64.b64encode(self.preview_png).decode("ascii")
        return {
            "path": dg.MetadataValue.path(str(page)),
            "panels": dg.MetadataValue.json({key: str(folder / name) for key, name in self.charts.items()}),
            "preview_png": dg.MetadataValue.path(str(folder / self.charts[PREVIEW_PANEL])),
            "preview": dg.MetadataValue.md(
                f"[{page}](file://{page})\n\n![{PREVIEW_PANEL}](data:image/png;base64,{preview})"
            ),
        }


def draw_dashboard(new_published_file: Path) -> DrawnDashboard:
    """Draw the page and PNGs from a new version's published file into `dashboard/` beside it."""
    from orchestration.dashboard.page import write_dashboard  # matplotlib: imported when a dashboard is drawn

    folder = new_published_file.parent / published_folder.DASHBOARD
    folder.mkdir()
    written = write_dashboard(new_published_file, folder)
    crash_point("dashboard")
    return DrawnDashboard(
        page_name=written.page.name,
        charts={key: png.name for key, png in written.charts.items()},
        preview_png=written.charts[PREVIEW_PANEL].read_bytes(),
    )
