"""Real-browser fixtures: the built book served on 127.0.0.1 and Debian's Chromium via Playwright.

The tests read the site that `make book` wrote (make test builds it first); they never build it.
Chromium is Debian's package (`make browser` installs it); Playwright only drives it, so no
browser is ever downloaded. Flags keep Chromium off the network: no background networking,
component updates, sync or QUIC. Playwright gives every launch a fresh, empty profile
(its own temporary --user-data-dir). Every request that leaves 127.0.0.1 is aborted and
recorded, so a page that reaches for a CDN fails its test.

Environment overrides: COURSE_SITE_DIR (the built site, default _build/html) and
COURSE_CHROMIUM (default /usr/bin/chromium).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, require_site, watch_page


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium (Debian's package)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    return require_site()


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The built site, served by an in-process HTTP server on 127.0.0.1 and a free port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    yield ctx
    ctx.close()


@pytest.fixture
def watched_page(context, site_url):
    page = context.new_page()
    watch = watch_page(page, site_url)
    return page, watch


@pytest.fixture(scope="session")
def browser_report(artifacts):
    """What the browser saw on each page, written to artifacts/browser/report.json at the end.

    Every axe-core violation is recorded, tolerated impacts (minor, moderate) included, so
    that the closing note of a run can list them.
    """
    report: dict[str, dict] = {}
    yield report
    (artifacts / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
