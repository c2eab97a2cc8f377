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


# Written into the DOM by the page itself once laid out: the width of its content, to show
# that nothing runs off a phone's screen. Headless Chromium lays out no narrower than 500 px
# whatever the window size, so the page is held to the width asked for (``html{width}``)
# and the body's scroll width tells whether anything runs past it.
MEASURE = (
    "<style>html{{width:{width}px}}</style>"
    "<script>addEventListener('load',()=>{{document.body.dataset.contentWidth="
    "document.body.scrollWidth}})</script>"
)


def content_width(dom: str) -> int:
    """The laid-out content width :data:`MEASURE` left in the DOM."""
    marker = 'data-content-width="'
    start = dom.index(marker) + len(marker)
    return int(dom[start : dom.index('"', start)])


def render(
    html: str, name: str, width: int = 412, height: int = 2400, min_bytes: int = 10_000
) -> str:
    """The DOM as Chromium rendered ``html`` at ``width`` px (a phone's, by default), with
    its content width measured; a ``name``.png screenshot of it kept."""
    html = html.replace("</body>", MEASURE.format(width=width) + "</body>")
    chromium = ensure_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as work:
        page = Path(work) / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        dom = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={work}/p1",
                f"--window-size={width},{height}",
                "--virtual-time-budget=2000",
                "--dump-dom",
                page.as_uri(),
            ],
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
    assert shot.stat().st_size > min_bytes, "the screenshot is (nearly) empty"
    return dom
