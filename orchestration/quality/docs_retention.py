"""Data Docs are kept for a number of days: every run adds a few MB of result JSON and HTML pages."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

# GE names a validation's folder after its run time: .../<run name>/20261123T144044.450259Z/
_RUN_TIME_FOLDER = re.compile(r"\d{8}T\d{6}\.\d{6}Z")


def forget_validations_before(docs_dir: Path, cutoff: datetime) -> int:
    """Delete the stored results and pages of validations run before `cutoff` (UTC); how many folders went."""
    removed = 0
    for root in (docs_dir / "store" / "results", docs_dir / "validations"):
        folders = [path for path in root.rglob("*") if path.is_dir() and _RUN_TIME_FOLDER.fullmatch(path.name)]
        for folder in folders:
            if datetime.strptime(folder.name, "%Y%m%dT%H%M%S.%fZ") < cutoff:
                shutil.rmtree(folder)
                removed += 1
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    return removed
