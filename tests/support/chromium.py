"""Headless Chromium (Debian's `chromium` package) loading a local page: its DOM after load and its console.

Console messages (console.log/error, uncaught exceptions) are written to stderr as `...:CONSOLE:<line>] "..."`
lines with --enable-logging=stderr; the DOM is dumped after the load event, so what scripts changed shows.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


@dataclass(frozen=True)
class RenderedPage:
    dom: str
    console: list[str]


def chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (scripts/install-test-servers installs Debian's package)")
    return binary


def render(page: Path, profile_dir: Path) -> RenderedPage:
    result = subprocess.run(
        [chromium_binary(), *FLAGS, f"--user-data-dir={profile_dir}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"chromium failed on {page}:\n{result.stderr[-2000:]}"
    return RenderedPage(dom=result.stdout, console=re.findall(r":CONSOLE[:(]\d+\)?\] (.*)", result.stderr))
