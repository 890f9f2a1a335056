"""The built book in a real browser (headless Debian Chromium driven by Playwright).

Every page of the site must load with no console error and no failed request, render its math
with the MathJax served from the site itself, load its figures, and pass axe-core with no
serious or critical violation. The sidebar must reach every chapter, search must find a
chapter by a word of its title, and the dark-mode toggle must switch the theme. A screenshot
of each page's first screen (and of the whole largest chapter in dark mode) is saved under
artifacts/browser/ (git-ignored).

Pages are discovered from the built site and chapters from _toc.yml, so the suite follows the
book as it grows.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from browser_support import (
    AXE_JS,
    BOOK_SOURCE,
    CHROMIUM,
    CHROMIUM_FLAGS,
    require_chromium,
    site_pages,
    toc_docnames,
    watch_page_async,
)

pytestmark = pytest.mark.browser

PAGES = site_pages() or ["<no built site>"]

# axe-core impacts that fail a page; "minor" and "moderate" are reported but tolerated.
FAILING_IMPACTS = {"serious", "critical"}

# Raw TeX that MathJax should have replaced: $...$ pairs, \( \) and \[ \] delimiters, and
# environments. Checked on the page's visible text outside code blocks and rendered math.
RAW_TEX = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\)|\\\[|\\\]|\\begin\{")

WAIT_FOR_MATH = """
async () => {
  const hasMath = document.querySelector('.math') !== null;
  if (!hasMath) return {hasMath, loaded: null};
  const deadline = Date.now() + 15000;
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() > deadline) return {hasMath, loaded: false};
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  if (MathJax.typesetPromise) await MathJax.typesetPromise();
  return {hasMath, loaded: true};
}
"""

MATH_REPORT = """
() => {
  const math = [...document.querySelectorAll('span.math, div.math')];
  const unrendered = math.filter(m => !m.querySelector('mjx-container'))
                         .map(m => m.textContent.trim().slice(0, 80));
  const errors = [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
                   .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
  // Visible text outside code, scripts and rendered math.
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      const skip = node.parentElement.closest('pre, code, script, style, mjx-container, textarea');
      return skip ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
    }
  });
  let text = '';
  while (walker.nextNode()) text += walker.currentNode.textContent;
  return {count: math.length, rendered: math.length - unrendered.length, unrendered, errors, text};
}
"""

IMAGE_REPORT = """
async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  return images.map(img => ({src: img.currentSrc || img.src, alt: img.alt,
                             complete: img.complete, width: img.naturalWidth}));
}
"""

RUN_AXE = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)
  }));
}
"""


def screenshot_name(rel: str, suffix: str = "") -> str:
    return rel.removesuffix(".html").replace("/", "__") + suffix + ".png"


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")


def require_axe() -> None:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `make web`", pytrace=False)


def run_axe(page) -> list[dict]:
    require_axe()
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(RUN_AXE)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"    {n}" for n in v["nodes"])
    return "\n".join(lines)


# --- Every page: loads clean, renders its math and figures, passes axe-core --------------------

# Pages audited at the same time, each in its own browser context (its own renderer process):
# axe-core and the rendering keep about one core busy per page, and this machine has two.
PAGES_AT_ONCE = 2


@dataclass
class Audit:
    failures: list[str]
    report: dict


async def audit_page(context, site_url: str, rel: str, artifacts: Path) -> Audit:
    """Load ``rel`` in a fresh page of ``context`` (async API) and check everything about it."""
    page = await context.new_page()
    watch = await watch_page_async(page, site_url)
    await page.goto(urljoin(site_url, rel), wait_until="load")
    await page.wait_for_load_state("networkidle")
    failures: list[str] = []

    # Math: rendered by the site's own MathJax, no raw TeX left in the text.
    state = await page.evaluate(WAIT_FOR_MATH)
    math = await page.evaluate(MATH_REPORT)
    if state["hasMath"]:
        if not state["loaded"]:
            failures.append("the page has math but MathJax never started")
        if math["rendered"] == 0 or math["unrendered"]:
            failures.append(f"math left unrendered: {math['unrendered'][:5]}")
        if math["errors"]:
            failures.append(f"MathJax errors: {math['errors'][:5]}")
    raw = RAW_TEX.findall(math["text"])
    if raw:
        failures.append(f"raw TeX left in the text: {raw[:5]}")

    # Figures: every image on the page decoded with a real size.
    for img in await page.evaluate(IMAGE_REPORT):
        if not img["complete"] or img["width"] == 0:
            failures.append(f"image did not load: {img['src']} (alt {img['alt']!r})")

    # Accessibility.
    await page.add_script_tag(path=str(AXE_JS))
    violations = await page.evaluate(RUN_AXE)
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if serious:
        failures.append("axe-core violations:\n" + format_violations(serious))

    # The first screen only: a full-page capture of a long chapter costs seconds of rendering.
    await page.screenshot(path=str(artifacts / screenshot_name(rel)))
    report = {
        "console_errors": list(watch.console_errors),
        "failed_requests": list(watch.failed_requests),
        "blocked_off_site_requests": list(watch.external_requests),
        "math_elements": math["count"],
        "math_rendered": math["rendered"],
        "images": await page.evaluate("() => document.images.length"),
        "axe_violations": [f"[{v['impact']}] {v['id']}: {v['help']}" for v in violations],
    }
    failures.extend(watch.problems())
    return Audit(failures, report)


def audit_pages(site_url: str, pages: list[str], artifacts: Path) -> dict[str, Audit]:
    """Every page audited, ``PAGES_AT_ONCE`` at a time, by one Chromium of Playwright's async API
    (in a thread of its own: the session's sync API owns this thread's event loop)."""
    from playwright.async_api import async_playwright

    async def all_pages() -> dict[str, Audit]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            gate = asyncio.Semaphore(PAGES_AT_ONCE)

            async def one(rel: str) -> Audit:
                async with gate:
                    context = await browser.new_context(
                        viewport={"width": 1280, "height": 900}, color_scheme="light"
                    )
                    try:
                        return await audit_page(context, site_url, rel, artifacts)
                    except Exception as error:  # noqa: BLE001 - a failure of this page only
                        return Audit([f"the page could not be audited: {error}"], {})
                    finally:
                        await context.close()

            try:
                audits = await asyncio.gather(*(one(rel) for rel in pages))
            finally:
                await browser.close()
            return dict(zip(pages, audits, strict=True))

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, all_pages()).result()


@pytest.fixture(scope="module")
def page_audits(site, site_url, artifacts, browser_report) -> dict[str, Audit]:
    require_chromium()
    require_axe()
    audits = audit_pages(site_url, site_pages(site), artifacts)
    browser_report.update({rel: audit.report for rel, audit in audits.items() if audit.report})
    return audits


@pytest.mark.parametrize("rel", PAGES)
def test_page_loads_clean_renders_math_and_figures_and_is_accessible(rel, page_audits):
    audit = page_audits.get(rel)
    assert audit is not None, f"{rel} was not audited (is the built site the one listed?)"
    assert not audit.failures, f"{rel}:\n" + "\n".join(audit.failures)


def chapter_pages() -> list[str]:
    return [f"{name}.html" for name in toc_docnames()]


def test_every_toc_page_was_built(site):
    missing = [p for p in chapter_pages() if not (site / p).is_file()]
    assert not missing, f"pages in _toc.yml with no built HTML: {missing}"


def test_sidebar_reaches_every_chapter(site, site_url, watched_page):
    """Start at the site root and click through the sidebar to every chapter in _toc.yml."""
    page, watch = watched_page
    expected = [urljoin(site_url, p) for p in chapter_pages()]
    page.goto(site_url)  # index.html redirects to the root chapter
    page.wait_for_url(re.compile(re.escape(expected[0]) + r"(#.*)?$"))
    page.wait_for_load_state("networkidle")

    sidebar = "nav.bd-docs-nav"
    hrefs = page.eval_on_selector_all(f"{sidebar} a[href]", "els => els.map(a => a.href)")
    listed = {h.split("#")[0] for h in hrefs}
    missing = [u for u in expected if u not in listed and u != page.url]
    assert not missing, f"the sidebar does not list: {missing}"

    for target in expected[1:]:
        links = page.locator(f"{sidebar} a[href]")
        index = links.evaluate_all(
            "(els, target) => els.findIndex(a => a.href.split('#')[0] === target)", target
        )
        assert index >= 0, f"the sidebar of {page.url} has no link to {target}"
        links.nth(index).click()
        # The sidebar's job ends when the page is there; its math and fonts are the page audit's.
        page.wait_for_url(re.compile(re.escape(target) + r"(#.*)?$"), wait_until="domcontentloaded")
        rel = target.removeprefix(site_url)
        heading = page.locator("main h1").first.inner_text()
        assert heading.strip(), f"{rel}: reached through the sidebar but has no title"
    assert not watch.problems(), "\n".join(watch.problems())


def search_word(title: str, other_titles: list[str]) -> str:
    """The word of ``title`` that fewest other titles share (ties: the longest).

    A title with no word of four letters or more (a placeholder such as "07_nn") is searched
    for whole, as Sphinx indexes it as one term.
    """
    words = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", title)]
    if not words:
        return title.strip()

    def shared(word: str) -> int:
        return sum(word in t.lower() for t in other_titles)

    return min(words, key=lambda w: (shared(w), -len(w)))


def page_title(site: Path, rel: str) -> str:
    class H1(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.text = ""

        def handle_starttag(self, tag, attrs):
            if tag == "h1" and not self.text:
                self.depth += 1

        def handle_endtag(self, tag):
            if tag == "h1" and self.depth:
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.text += data

    parser = H1()
    parser.feed((site / rel).read_text(encoding="utf-8"))
    return parser.text.replace("#", "").strip()


def test_search_finds_each_chapter_by_a_word_of_its_title(site, site_url, watched_page):
    page, watch = watched_page
    chapters = chapter_pages()
    titles = {rel: page_title(site, rel) for rel in chapters}
    open_page(page, urljoin(site_url, chapters[0]))
    for rel in chapters:
        word = search_word(titles[rel], [t for r, t in titles.items() if r != rel])
        # Use the search box as a reader would: Ctrl+K opens it, Enter goes to search.html.
        page.keyboard.press("Control+k")
        box = page.locator("input[name='q']:visible").first
        box.fill(word)
        box.press("Enter")
        page.wait_for_url(re.compile(r"search\.html\?q="), wait_until="domcontentloaded")
        page.wait_for_selector("#search-results .search-summary", timeout=15000)
        found = page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(a => a.href.split(/[?#]/)[0])"
        )
        assert urljoin(site_url, rel) in found, f"searching {word!r} did not find {rel}: {found}"
    assert not watch.problems(), "\n".join(watch.problems())


def test_dark_mode_toggle_switches_and_persists(site, site_url, watched_page, artifacts):
    page, watch = watched_page
    chapters = chapter_pages()
    # The largest chapter has the most to check (code, figures, math).
    rel = max(chapters, key=lambda p: (site / p).stat().st_size)
    open_page(page, urljoin(site_url, rel))
    theme = page.evaluate("() => document.documentElement.dataset.theme")
    assert theme == "light", f"the page should open light for a light-scheme reader, got {theme}"
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")

    seen = [theme]
    for _ in range(3):  # the button cycles light -> dark -> auto
        page.locator(".theme-switch-button:visible").first.click()
        seen.append(page.evaluate("() => document.documentElement.dataset.theme"))
        if seen[-1] == "dark":
            break
    assert seen[-1] == "dark", f"the toggle never reached dark mode: {seen}"
    page.wait_for_timeout(300)  # let the colour transition finish
    dark_background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert dark_background != background, "dark mode did not change the background colour"

    page.reload(wait_until="load")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark", (
        "dark mode was not remembered across a reload"
    )
    page.evaluate(WAIT_FOR_MATH)
    violations = [v for v in run_axe(page) if v["impact"] in FAILING_IMPACTS]
    page.screenshot(path=str(artifacts / screenshot_name(rel, "-dark")), full_page=True)
    assert not violations, f"{rel} in dark mode:\n" + format_violations(violations)
    assert not watch.problems(), "\n".join(watch.problems())


# --- The HTML itself: nothing is fetched from another host. -----------------------------------

URL_ATTRS = re.compile(r"""\b(?:src|href|data|poster|action)\s*=\s*["']([^"']+)["']""", re.I)
CSS_URL = re.compile(r"""url\(\s*["']?(https?:)?//""", re.I)


def allowed_link_hosts() -> dict[str, str]:
    """Hosts a page may LINK to (never load from): the repository and the launch services."""
    config = yaml.safe_load((BOOK_SOURCE / "_config.yml").read_text(encoding="utf-8"))
    urls = [config.get("repository", {}).get("url", "")]
    urls += [v for k, v in config.get("launch_buttons", {}).items() if k.endswith("_url")]
    return {urlsplit(u).netloc: u for u in urls if u}


def off_site_references(site: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(loads, links) to other hosts, as (where, url): <a href> links apart from everything else."""
    loads, links = [], []
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8", errors="replace")
        for match in URL_ATTRS.finditer(html):
            url = match.group(1)
            if not re.match(r"(https?:)?//", url, re.I):
                continue
            tag = html[html.rfind("<", 0, match.start()) :][:3].lower()
            where = f"{page.relative_to(site)}: {match.group(0)[:140]}"
            is_anchor = tag in ("<a ", "<a\n") and match.group(0).lower().startswith("href")
            (links if is_anchor else loads).append((where, url))
    for css in sorted(site.rglob("*.css")):
        if CSS_URL.search(css.read_text(encoding="utf-8", errors="replace")):
            loads.append((f"{css.relative_to(site)}: url() on another host", ""))
    return loads, links


def cited_source_urls() -> set[str]:
    """The url and doi fields of book/references.bib, as the bibliography page links them."""
    text = (BOOK_SOURCE / "book" / "references.bib").read_text(encoding="utf-8")
    urls = set(re.findall(r"^\s*url\s*=\s*\{([^}]*)\}", text, re.M))
    dois = re.findall(r"^\s*doi\s*=\s*\{([^}]*)\}", text, re.M)
    return urls | {f"https://doi.org/{doi}" for doi in dois}


def test_no_page_loads_anything_from_another_host(site):
    """Scripts, styles, images, fonts, frames: all served by the site itself (works offline)."""
    loads, _ = off_site_references(site)
    assert not loads, "the site loads from another host:\n" + "\n".join(w for w, _ in loads[:40])


def test_off_site_links_go_only_to_the_repository_and_launch_services(site):
    """The only <a> links off the site are the student edition's repository and launch buttons."""
    allowed = allowed_link_hosts()
    sources = cited_source_urls()  # the bibliography links each source it cites
    _, links = off_site_references(site)
    other = [
        where for where, url in links if urlsplit(url).netloc not in allowed and url not in sources
    ]
    assert not other, f"links off the site to hosts other than {sorted(allowed)}:\n" + "\n".join(
        other[:40]
    )


def test_mathjax_is_served_with_the_site(site):
    """Each page with math loads exactly one MathJax script, and it is a file of the site."""
    for rel in site_pages(site):
        html = (site / rel).read_text(encoding="utf-8")
        scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', html, re.I)
        assert len(scripts) <= 1, f"{rel} loads {len(scripts)} MathJax scripts: {scripts[:5]}"
        if 'class="math' in html:
            assert scripts, f"{rel} has math but no MathJax script"
        for src in scripts:
            local = ((site / rel).parent / src.split("?")[0]).resolve()
            assert local.is_file() and site in local.parents, f"{rel}: {src} is not in the site"
