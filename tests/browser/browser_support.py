"""Helpers shared by the browser tests: where things are, the Chromium flags, page discovery,
and a watcher for console errors and failed or off-site requests."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from built_site import SITE, require_site  # noqa: F401  (re-exported to conftest)
from chromium import CHROMIUM, CHROMIUM_FLAGS, require_chromium  # noqa: F401  (re-exported)

ROOT = Path(__file__).resolve().parents[2]
# The book sources the site was built from: two levels above the html folder.
BOOK_SOURCE = SITE.parents[1] if (SITE.parents[1] / "_toc.yml").exists() else ROOT
AXE_JS = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts" / "browser"


# Pages of the site that are not book pages: assets, sources, images.
_NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}


def toc_docnames(source: Path = BOOK_SOURCE) -> list[str]:
    """Docnames in _toc.yml, in reading order (the root first)."""
    toc = yaml.safe_load((source / "_toc.yml").read_text(encoding="utf-8"))
    names: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    names.append(str(node[key]).removesuffix(".md").removesuffix(".ipynb"))
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return names


def is_redirect(page: Path) -> bool:
    """True for a meta-refresh stub (the site's index.html points at the root chapter)."""
    head = page.read_text(encoding="utf-8", errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in head


def site_pages(site: Path = SITE) -> list[str]:
    """Every HTML page of the built site, as paths relative to it (redirect stubs left out)."""
    if not site.is_dir():
        return []
    pages = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site)
        if rel.parts[0] in _NOT_PAGES or is_redirect(page):
            continue
        pages.append(rel.as_posix())
    return pages


@dataclass
class Watch:
    """What a page did wrong while it loaded: console errors, failed or off-site requests."""

    local_prefix: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"failed request: {r}" for r in self.failed_requests]
            + [f"request off 127.0.0.1 (blocked): {r}" for r in self.external_requests]
        )

    def clear(self) -> None:
        self.console_errors.clear()
        self.failed_requests.clear()
        self.external_requests.clear()


def _listen(page, watch: Watch) -> None:
    """Console errors, page errors and failed requests of ``page`` into ``watch``."""
    page.on(
        "console",
        lambda msg: watch.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda err: watch.console_errors.append(f"uncaught: {err}"))
    page.on(
        "requestfailed",
        lambda req: (
            None
            if req.url in watch.external_requests
            else watch.failed_requests.append(f"{req.url} ({req.failure})")
        ),
    )

    def on_response(response) -> None:
        if response.status >= 400:
            watch.failed_requests.append(f"{response.url} (HTTP {response.status})")

    page.on("response", on_response)


def _off_site(local_prefix: str) -> re.Pattern:
    return re.compile(r"^(?!" + re.escape(local_prefix) + r")(https?|wss?)://")


def watch_page(page, local_prefix: str) -> Watch:
    """Record console errors, page errors, failed and off-site requests of ``page``."""
    watch = Watch(local_prefix)
    _listen(page, watch)

    def block(route) -> None:
        watch.external_requests.append(route.request.url)
        route.abort()

    page.route(_off_site(local_prefix), block)
    return watch


async def watch_page_async(page, local_prefix: str) -> Watch:
    """``watch_page`` for a page of Playwright's async API."""
    watch = Watch(local_prefix)
    _listen(page, watch)

    async def block(route) -> None:
        watch.external_requests.append(route.request.url)
        await route.abort()

    await page.route(_off_site(local_prefix), block)
    return watch


def type_answer(page, name: str, code: str, timeout_s: float = 60.0) -> None:
    """Replace the text of the solution cell of ``name`` (the code cell that defines it and still
    raises NotImplementedError) in the open notebook with ``code``, typed as one paste (the
    editor's auto-indent does not re-indent the lines).

    JupyterLab attaches and renders the editors of cells out of view lazily (its default
    windowing mode), so a cell's text is read only after scrolling it into view, and the whole
    scan is retried until ``timeout_s``: on a loaded machine the editors fill in late."""
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
    deadline = time.monotonic() + timeout_s
    index = -1
    while index < 0:
        for i in range(cells.count()):
            cell = cells.nth(i)
            cell.scroll_into_view_if_needed()
            text = cell.locator(".cm-content").inner_text()
            if f"def {name}(" in text and "NotImplementedError" in text:
                index = i
                break
        else:
            assert time.monotonic() < deadline, (
                f"no solution cell for {name} (with raise NotImplementedError()) "
                f"in {timeout_s:.0f} s"
            )
            time.sleep(0.5)
    editor = cells.nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code.rstrip("\n"))
    text = editor.inner_text()
    assert f"def {name}" in text and "NotImplementedError" not in text, text
