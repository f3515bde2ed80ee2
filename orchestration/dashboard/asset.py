"""The dashboard as a Dagster asset downstream of the publish step.

It reads the published file, not the warehouse, so it shows exactly what analysts see and never takes the
warehouse's write lock. The page and PNGs are written to a new folder and swapped in as `dashboard/` beside
the published file in one step, like the Parquet exports.
"""

import base64
from pathlib import Path

import dagster as dg

from orchestration import published_folder
from orchestration.crash_points import crash_point
from orchestration.publish import published_warehouse
from orchestration.resources import WarehouseResource
from orchestration.writer_lock import WAREHOUSE_POOL

PREVIEW_PANEL = "briefing"


def dashboard_dir_of(published_path: Path) -> Path:
    """`dashboard/` beside the published file: index.html and one PNG per panel."""
    return published_path.parent / "dashboard"


@dg.asset(
    key=dg.AssetKey(["published", "dashboard"]),
    group_name="published",
    kinds={"html"},
    deps=[published_warehouse.key],
    pool=WAREHOUSE_POOL,  # one publish at a time: a second run's dashboard never swaps out this one's folder
    description="A static dashboard (one offline HTML page and a PNG per panel) drawn from the published marts.",
)
def published_dashboard(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from orchestration.dashboard.page import write_dashboard  # matplotlib: imported when a dashboard is drawn

    published_path = Path(warehouse.published_path)
    link = dashboard_dir_of(published_path)
    folder = published_folder.new_version(link)
    try:
        written = write_dashboard(published_path, folder)
        crash_point("dashboard")
        published_folder.swap_in(link, folder, warehouse.published_file_mode)
    except BaseException:
        published_folder.discard(folder)
        raise
    page = link / written.page.name
    context.log.info(f"dashboard: {page} ({len(written.charts)} panels)")
    preview = base64.b64encode(written.charts[PREVIEW_PANEL].read_bytes()).decode("ascii")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "panels": dg.MetadataValue.json({key: str(link / png.name) for key, png in written.charts.items()}),
            "preview_png": dg.MetadataValue.path(str(link / written.charts[PREVIEW_PANEL].name)),
            "preview": dg.MetadataValue.md(
                f"[{page}](file://{page})\n\n![{PREVIEW_PANEL}](data:image/png;base64,{preview})"
            ),
        }
    )
