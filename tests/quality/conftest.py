"""The quality tests dirty copies of the session's clean pipeline (tests/support/pipeline.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.pipeline import AS_OF, Pipeline, failure_messages, file_digest, raw_fingerprint  # noqa: F401


@pytest.fixture()
def pipeline(clean_pipeline: Pipeline, tmp_path: Path) -> Pipeline:
    """A copy of the clean pipeline's files, free to dirty."""
    return clean_pipeline.copy_to(tmp_path / "data")
