"""The published folder: the file, its Parquet exports and the dashboard, replaced together in one step.

Each publish writes a complete version into a new hidden folder `.published.<id>/` beside the published file
(`crm.duckdb`, `parquet/`, `dashboard/`), then points the link `current` at it with one rename (atomic on
POSIX). The names readers use are links through `current`, made once:

    crm.duckdb -> current/crm.duckdb     parquet -> current/parquet     dashboard -> current/dashboard

so a reader who opens any of them gets one run's version of all three, never the new file beside the old
Parquet files or the old dashboard. Versions other than the current one are removed after the swap (files
a reader already has open stay readable until closed), and so is any version a killed publish left.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from orchestration.file_modes import make_folder, share_folder

CURRENT = "current"
VERSION_PREFIX = ".published."
PARQUET = "parquet"
DASHBOARD = "dashboard"


def new_version(published_path: Path, file_mode: int) -> Path:
    """An empty hidden version folder beside the published file, to fill before `swap_in`."""
    make_folder(published_path.parent, file_mode)
    folder = published_path.parent / f"{VERSION_PREFIX}{uuid.uuid4().hex}"
    folder.mkdir()
    return folder


def current_version(published_path: Path) -> Path | None:
    """The version folder readers see now, or None before the first publish of this layout."""
    link = published_path.parent / CURRENT
    return link.resolve() if link.is_symlink() else None


def dead_versions(published_path: Path) -> list[Path]:
    """Version folders other than the current one: a killed publish's, or one a swap did not get to remove.

    At the start of a publish every one of them is dead: one publish writes at a time (the run holds the
    warehouse's writer lock)."""
    current = current_version(published_path)
    return sorted(folder for folder in published_path.parent.glob(f"{VERSION_PREFIX}*") if folder.resolve() != current)


def swap_in(published_path: Path, version: Path, file_mode: int) -> None:
    """Give `version`'s files `file_mode` (CRM_PUBLISHED_FILE_MODE), point `current` at it in one rename, make the
    reader-facing links (for what the version holds) if they are not links yet, then remove every other version."""
    share_folder(version, file_mode)
    folder = published_path.parent
    pending = folder / f".{CURRENT}.link.{uuid.uuid4().hex}"
    os.symlink(version.name, pending, target_is_directory=True)  # relative: the data folder can be moved
    if (folder / CURRENT).is_dir() and not (folder / CURRENT).is_symlink():
        shutil.rmtree(folder / CURRENT)  # a copy that followed the links (cp -r): make room for the link
    os.replace(pending, folder / CURRENT)
    for name in (published_path.name, PARQUET, DASHBOARD):
        if (version / name).exists():
            _link_through_current(folder / name)
    for older in dead_versions(published_path):
        discard(older)
    # Interrupted link swaps, and the per-folder versions of releases before this layout (`.parquet.<id>`).
    for leftover in (
        *folder.glob(f".{CURRENT}.link.*"),
        *folder.glob(f".{PARQUET}.*"),
        *folder.glob(f".{DASHBOARD}.*"),
    ):
        discard(leftover)


def _link_through_current(path: Path) -> None:
    """Make `path` the link `current/<name>`, replacing what an older release left there (a plain file is replaced
    in one rename; a plain folder is removed first, a moment without it, once)."""
    target = f"{CURRENT}/{path.name}"
    if path.is_symlink() and os.readlink(path) == target:
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    pending = path.with_name(f".{path.name}.link.{uuid.uuid4().hex}")
    os.symlink(target, pending)
    os.replace(pending, path)


def discard(folder: Path) -> None:
    """Remove a version that was not published (a failed publish) or is no longer current."""
    if folder.is_symlink():
        folder.unlink()
    else:
        shutil.rmtree(folder, ignore_errors=True)
