"""Debian's Chromium driven by Playwright, shared by every suite that opens a browser.

Playwright's sync API allows one running instance per thread: a second ``sync_playwright()``
while the first is alive fails ("using Playwright Sync API inside the asyncio loop"). So the
browser and hub suites do not each start their own; they use the one session fixture
``browser`` in ``tests/conftest.py``, built here.

Chromium is Debian's package (`make browser` installs it); Playwright only drives it, so no
browser is ever downloaded. The flags keep Chromium off the network: no background networking,
component updates, sync or QUIC. COURSE_CHROMIUM overrides the path (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Fail the test in one line if Debian's Chromium is not there."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `make browser` "
            "(apt-get install chromium); `make test` does it for you",
            pytrace=False,
        )


def running_chromium() -> Iterator:
    """Yield a headless Chromium (Playwright ``Browser``); close it and Playwright afterwards."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
