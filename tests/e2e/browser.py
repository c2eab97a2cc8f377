"""Pages in headless Chromium: the DOM Chromium built (to assert on its text) and a
screenshot kept under ``test-artifacts/``. The HTML is fetched through the API with the
caller's token (a browser cannot send one) and opened from a file."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from tests.e2e.test_run_command import ARTIFACTS, ensure_chromium

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def render(html: str, name: str, width: int = 412, height: int = 2400) -> str:
    """The DOM as Chromium rendered ``html``; a ``name``.png screenshot at ``width`` px."""
    chromium = ensure_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as work:
        page = Path(work) / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        dom = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={work}/p1", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={work}/p2",
                f"--window-size={width},{height}",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    assert shot.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    return dom
