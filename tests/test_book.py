"""The built book: a page per chapter, executed outputs, figures as images with alt text, no errors.

These tests read the site that `make book` (or `make test`, which builds first) wrote to
_build/html; they do not build it themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from built_site import SITE, require_site

ROOT = Path(__file__).resolve().parent.parent
HTML = SITE
CHAPTERS = [
    "01_tensors",
    "02_broadcasting",
    "03_matmul",
    "04_forward",
    "05_backward",
    "06_autograd",
    "07_nn",
    "08_optim",
    "09_classifier",
]


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


@pytest.fixture(scope="module")
def pages() -> dict[str, BeautifulSoup]:
    require_site()
    out = {}
    for name in CHAPTERS:
        page = HTML / "book" / f"{name}.html"
        assert page.exists(), f"no page was built for chapter {name}"
        out[name] = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return out


def test_toc_lists_the_eight_chapters_in_order():
    chapters = [f.removeprefix("book/") for f in toc_files() if f.startswith("book/0")]
    assert chapters == CHAPTERS


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_executed_outputs(pages, name):
    soup = pages[name]
    cells = soup.select("div.cell")
    outputs = soup.select("div.cell_output")
    assert len(cells) >= 5, f"{name}: only {len(cells)} code cells"
    assert len(outputs) >= 3, f"{name}: only {len(outputs)} cells have outputs: was it executed?"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_no_error_output(pages, name):
    soup = pages[name]
    errors = soup.select("div.output.traceback, div.output.error")
    assert not errors, f"{name}: an output is an error:\n{errors[0].get_text()[:500]}"
    text = soup.get_text()
    assert "Traceback (most recent call last)" not in text, f"{name}: a traceback is shown"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_figures_are_images_with_alt_text(pages, name):
    soup = pages[name]
    images = [img for img in soup.select("div.cell_output img")]
    assert images, f"{name}: no figure was rendered as an image"
    for img in images:
        alt = (img.get("alt") or "").strip()
        assert len(alt) >= 15, f"{name}: figure {img.get('src')} has no real alt text ({alt!r})"
        src = (HTML / "book" / img["src"]).resolve()
        assert src.exists() and src.stat().st_size > 1000, f"{name}: image {src} is missing"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_math(pages, name):
    soup = pages[name]
    math = soup.select(".math")
    assert math, f"{name}: no formula at all"
