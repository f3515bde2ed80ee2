"""File-drop sources: CSV or Parquet exports of CRM tables dropped into CRM_LANDING_DIR.

A file is named after the source table it holds (`opportunities.csv`, `payments_2026-11-20.parquet`) and
has that table's columns (domain.md §1). The tables a file may hold are the chosen system's
(orchestration/source_system.py): with 悟空CRM, its `wk_` tables and the contract's `fx_rates` and
`marketing_spend`, which no 悟空CRM database holds and which stay empty in raw until a file brings them. Its life:

    landing/<file>  → (sensor checks it, a run lands it, gate 1 checks it, the merge writes raw)
                    → landing/archive/<file>                        loaded, recorded in the ledger
                    → landing/rejected/<file> + <file>.reason.txt   unreadable, off-contract, or its run failed

The ledger (CRM_DATA_DIR/file_ledger.sqlite) records every file by its sha256, so a file is loaded once even
if the same content is dropped again under any name. It is a SQLite file, not a warehouse table, because the
sensor must read it while a run holds the warehouse's one write lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crm_contract import SOURCE_TABLES, SourceTable
from orchestration.file_reader import FileContractError, FileReader

ARCHIVE_DIR = "archive"
REJECTED_DIR = "rejected"
REASON_SUFFIX = ".reason.txt"
# Run tag of a file-drop run: {table: {"file": name in the landing folder, "sha256": ...}}.
DROP_FILES_TAG = "crm/drop_files"


@dataclass(frozen=True)
class DroppedFile:
    """A file waiting in the landing folder, with the table its name points at and its checksum."""

    path: Path
    table: SourceTable | None
    sha256: str


def table_for_file(name: str, tables: Sequence[SourceTable] = SOURCE_TABLES) -> SourceTable | None:
    """The table of `tables` a file's name starts with (`<table>.csv`, `<table>_<anything>.csv`, `<table>-…`)."""
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
    # Longest names first, so `opportunity_products_1.csv` is not taken for `opportunities`.
    for table in sorted(tables, key=lambda table: len(table.name), reverse=True):
        if stem == table.name or (stem.startswith(table.name) and stem[len(table.name)] in "_-."):
            return table
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def drop_files_tag(files: list[DroppedFile]) -> dict[str, str]:
    return {DROP_FILES_TAG: json.dumps({f.table.name: {"file": f.path.name, "sha256": f.sha256} for f in files})}


def drop_files_of(tags: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The run's dropped files by table ({} for a run that reads the CRM database)."""
    return json.loads(tags[DROP_FILES_TAG]) if DROP_FILES_TAG in tags else {}


class LandingFolder:
    """The drop folder (CRM_LANDING_DIR) and its archive/ and rejected/ subfolders."""

    def __init__(
        self, root: Path, *, settle_seconds: float = 10.0, tables: Sequence[SourceTable] = SOURCE_TABLES
    ) -> None:
        self.root = root
        self.settle_seconds = settle_seconds
        self.tables = tuple(tables)  # the tables a file may hold: the chosen source system's

    def pending(self) -> list[DroppedFile]:
        """Files waiting to be loaded, oldest first; a file still being written (changed lately) waits a tick."""
        if not self.root.is_dir():
            return []
        settled_before = time.time() - self.settle_seconds
        paths = [
            path
            for path in self.root.iterdir()
            if path.is_file()
            and not path.name.startswith((".", "_"))
            and not path.name.endswith(REASON_SUFFIX)
            and path.stat().st_mtime <= settled_before
        ]
        paths.sort(key=lambda path: (path.stat().st_mtime, path.name))
        return [DroppedFile(path, table_for_file(path.name, self.tables), sha256_of(path)) for path in paths]

    def path_of(self, name: str) -> Path:
        return self.root / name

    def archive(self, path: Path) -> Path:
        return self._move(path, ARCHIVE_DIR)

    def reject(self, path: Path, reason: str) -> Path:
        """Move the file to rejected/ and write why beside it (`<file>.reason.txt`)."""
        moved = self._move(path, REJECTED_DIR)
        moved.with_name(moved.name + REASON_SUFFIX).write_text(reason.rstrip() + "\n")
        return moved

    def _move(self, path: Path, folder: str) -> Path:
        """Move into `folder`; a name already there gets the time appended, so nothing is overwritten."""
        target_dir = self.root / folder
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        shutil.move(path, target)
        return target


class FileLedger:
    """Every dropped file the pipeline dealt with, by checksum: loaded (once) or rejected (with the reason)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def loaded(self, sha256: str) -> dict[str, str] | None:
        """When and by which run a file with this content was loaded, or None."""
        if not self.path.exists():
            return None
        with self._connect() as con:
            row = con.execute(
                "SELECT file_name, run_id, recorded_at FROM dropped_files WHERE sha256 = ? AND outcome = 'loaded' "
                "ORDER BY recorded_at LIMIT 1",
                [sha256],
            ).fetchone()
        return dict(zip(("file_name", "run_id", "recorded_at"), row)) if row else None

    def record(
        self,
        file: DroppedFile,
        *,
        outcome: str,
        run_id: str | None = None,
        rows: int | None = None,
        reason: str | None = None,
    ) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO dropped_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    file.sha256,
                    file.path.name,
                    file.table.name if file.table else None,
                    outcome,
                    rows,
                    run_id,
                    reason,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ],
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as con, con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS dropped_files (sha256 TEXT NOT NULL, file_name TEXT NOT NULL, "
                "table_name TEXT, outcome TEXT NOT NULL, rows INTEGER, run_id TEXT, reason TEXT, recorded_at TEXT NOT NULL)"
            )
            yield con


def sort_out_pending(
    folder: LandingFolder, ledger: FileLedger, *, in_flight: set[str], log: logging.Logger
) -> list[DroppedFile]:
    """The pending files to load now, at most one per table (the oldest); the rest are dealt with here.

    Files already loaded (same checksum) are archived without loading; unreadable or off-contract files are
    rejected with their reason; files a queued or running run is loading, and later files of a table already
    picked, wait for a later tick.
    """
    chosen: dict[str, DroppedFile] = {}
    for file in folder.pending():
        if file.sha256 in in_flight or (file.table is not None and file.table.name in chosen):
            continue
        previous = ledger.loaded(file.sha256)
        if previous is not None:
            archived = folder.archive(file.path)
            ledger.record(file, outcome="duplicate", reason=f"same content as {previous['file_name']}")
            log.info(
                f"{file.path.name}: already loaded from {previous['file_name']} by run {previous['run_id']} "
                f"at {previous['recorded_at']}; archived as {archived.name} without loading"
            )
            continue
        reason = contract_problem(file, folder.tables)
        if reason is not None:
            rejected = folder.reject(file.path, reason)
            ledger.record(file, outcome="rejected", reason=reason)
            log.warning(f"{file.path.name}: rejected, moved to {rejected}: {reason}")
            continue
        chosen[file.table.name] = file
    return list(chosen.values())


def contract_problem(file: DroppedFile, tables: Sequence[SourceTable] = SOURCE_TABLES) -> str | None:
    """Why the file cannot be loaded as its table (name, format, columns, types), or None if it can."""
    if file.table is None:
        return (
            f"{file.path.name}: the name does not start with a CRM source table (domain.md §1), so its table "
            f"is unknown; name it <table>.csv, <table>.parquet or <table>_<anything>.csv, one of: "
            f"{', '.join(sorted(t.name for t in tables))}"
        )
    try:
        reader = FileReader(file.path)
        reader.check_columns(file.table)
        reader.read(file.table)
    except FileContractError as error:
        return str(error)
    return None
