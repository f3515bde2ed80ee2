"""A folder next to the published file (Parquet exports, the dashboard) that is replaced in one step.

A rename cannot replace a non-empty folder, so the public name is a symbolic link: each publish writes a
new hidden folder beside it, then swaps the link over with one rename (atomic on POSIX). A reader sees the
old files or the new ones, never half of each; the previous version's folder is removed after the swap
(files a reader already has open stay readable until closed), and so is any version a killed publish left.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from orchestration.file_modes import share_folder


def new_version(link: Path) -> Path:
    """An empty hidden folder beside `link`, to fill before `swap_in`."""
    link.parent.mkdir(parents=True, exist_ok=True)
    folder = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    folder.mkdir()
    return folder


def swap_in(link: Path, folder: Path, file_mode: int) -> None:
    """Give `folder`'s files `file_mode` (CRM_PUBLISHED_FILE_MODE), point `link` at it in one rename, then remove
    every other version: older ones, and those of publishes killed before their swap (one publish runs at a time,
    so no other is being written)."""
    share_folder(folder, file_mode)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # a plain folder left by hand or by an older release: make room for the link
    pending = link.with_name(f".{link.name}.link.{uuid.uuid4().hex}")
    os.symlink(folder.name, pending, target_is_directory=True)  # relative: the data folder can be moved
    os.replace(pending, link)
    for older in link.parent.glob(f".{link.name}.*"):
        if older.name != folder.name:
            discard(older)


def discard(folder: Path) -> None:
    """Remove an unpublished version (a failed publish) or a stale one."""
    if folder.is_symlink():
        folder.unlink()
    else:
        shutil.rmtree(folder, ignore_errors=True)
