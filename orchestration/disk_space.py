"""A full disk, said once and plainly: which folder, how much is left, and that nothing half-written was kept.

DuckDB reports a full disk as an IO error deep in a statement ("No space left on device"), and a rollback that
follows may fail in turn and hide it ("cannot rollback - no transaction is active"). The warehouse stays usable
(DuckDB rolls back what it could not write), so the operator only needs to free space and run again.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DiskFullError(RuntimeError):
    """The disk under a warehouse or published file filled up; the message names the folder and what is left."""


def is_disk_full(error: BaseException) -> bool:
    causes = [error]
    while causes[-1].__cause__ is not None or causes[-1].__context__ is not None:
        causes.append(causes[-1].__cause__ or causes[-1].__context__)
    return any(
        getattr(cause, "errno", None) == errno.ENOSPC or "No space left on device" in str(cause) for cause in causes
    )


@contextmanager
def naming_a_full_disk(path: Path, what: str) -> Iterator[None]:
    """Turn a full-disk error raised while writing `path` into one message; other errors pass unchanged."""
    try:
        yield
    except Exception as error:
        if isinstance(error, DiskFullError) or not is_disk_full(error):
            raise
        folder = path.parent
        free = shutil.disk_usage(folder).free if folder.exists() else 0
        raise DiskFullError(
            f"disk full: {folder} has {free / 1e6:.1f} MB left, too little for {what}; nothing half-written was kept. "
            "Free space there (or point the setting at another disk) and run again",
        ) from error
