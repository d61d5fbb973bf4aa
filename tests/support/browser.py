"""Screenshots of local pages in headless Chromium (the Debian package `make test` installs), offline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cc_sieve.filters.resources import REPO_ROOT

ARTIFACTS = REPO_ROOT / "build" / "test-artifacts"


def screenshot(page: Path, name: str, profile: Path, width: int = 1200, height: int = 2400) -> Path:
    """A screenshot of the page's first `height` pixels at build/test-artifacts/NAME; fails on a script or load
    error the browser reports."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed: `make test` installs the Debian package chromium")
    target = ARTIFACTS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             f"--user-data-dir={profile}", f"--window-size={width},{height}",
                             f"--screenshot={target}", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "Uncaught" in line or "Failed to load" in line]
    assert not errors, errors
    assert target.is_file() and target.stat().st_size > 20_000
    return target
