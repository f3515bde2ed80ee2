"""Who may read the files the pipeline writes.

The warehouse holds contacts' emails and phone numbers: only the pipeline's own account reads it (0600). The
published copies (the .duckdb file, its Parquet files, the dashboard) are for analysts and BI tools on the same
machine and get CRM_PUBLISHED_FILE_MODE (default 0640: the owner's group reads them).

A chmod after DuckDB creates the warehouse is not enough: DuckDB deletes the write-ahead log (`<warehouse>.wal`)
at every checkpoint and creates the next one with the process's umask, and dbt writes the warehouse from a
process of its own. So a run writes under umask 077, which its child processes inherit: whatever it creates is
private unless given a mode on purpose, as the published files are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WAREHOUSE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


@contextmanager
def private_files() -> Iterator[None]:
    """Files created meanwhile, by this process or a process it starts, are readable by their owner alone.

    The umask is the process's: a thread that creates a file meanwhile makes it private too, the safe side.
    """
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def folder_mode(file_mode: int) -> int:
    """Whoever may read the files may list and enter their folder: each read bit gains its execute bit."""
    return file_mode | (file_mode & 0o444) >> 2


def make_folder(folder: Path, file_mode: int) -> None:
    """Create `folder` and its missing parents for files of `file_mode`. Folders that exist keep their mode (the
    operator's choice); new ones would otherwise be private under a run's umask and hide the files in them."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        path.chmod(folder_mode(file_mode))


def share_folder(folder: Path, file_mode: int) -> None:
    """Give every file in `folder` `file_mode`, and `folder` and its subfolders the matching folder mode."""
    folder.chmod(folder_mode(file_mode))
    for path in folder.rglob("*"):
        path.chmod(folder_mode(file_mode) if path.is_dir() else file_mode)
