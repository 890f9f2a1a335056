"""The built book: a page per chapter, executed outputs, figures as images with alt text, no errors.

These tests read the site that `make book` (or `make test`, which builds first) wrote to
_build/html; they do not build it themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from built_site import SITE, require_site
from coursekit.problemsets.pages import RELIES_ON

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


def test_toc_lists_the_chapters_in_order():
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


# --- the second edition's frame: notation, sources, objectives, summaries, readable outputs ---


def test_notation_and_bibliography_are_in_the_toc_and_linked_from_the_intro():
    files = toc_files()
    assert "book/notation" in files and "book/bibliography" in files
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert "{doc}`notation`" in intro and "{doc}`bibliography`" in intro


def test_bibliography_page_lists_the_cited_sources():
    require_site()
    page = BeautifulSoup((HTML / "book" / "bibliography.html").read_text(), "html.parser")
    text = page.get_text(" ").lower()
    for title in ["delving deep into rectifiers", "accuracy and stability", "01_matmul"]:
        assert title in text, f"the bibliography does not list {title!r}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_opens_with_objectives_and_ends_with_a_summary(name):
    """Before its first section a chapter has an admonition with a list of learning objectives
    and its prerequisites, linked; its last section is the summary."""
    source = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
    first_section = source.split("\n## ", 1)[0]
    box = re.search(r"^(:{3,}|`{3,})\{admonition\}(.*?)^\1\s*$", first_section, re.M | re.S)
    assert box, f"{name}: no admonition (objectives and prerequisites) before the first section"
    assert re.search(r"^- ", box.group(2), re.M), f"{name}: the admonition lists no objectives"
    assert re.search(r"prerequisite|you need", box.group(2), re.I) and "{doc}`" in box.group(2), (
        f"{name}: the admonition does not name (and link) the prerequisites"
    )
    headings = [h.strip() for h in re.findall(r"^## (.+)$", source, re.M)]
    if headings and headings[-1] == "Exercises":  # a chapter with a set ends with its Exercises
        headings = headings[:-1]
    assert headings and headings[-1] == "Summary", (
        f"{name}: the section before Exercises (or the last) is not Summary"
    )


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_speaks_to_readers_not_about_our_seed_material(name):
    source = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
    found = re.findall(r"seed (?:notebook|lecture|lab)s?|Lab \d seed|the seed lab", source, re.I)
    assert not found, f"{name}: mentions the course's seed material: {found}"


BARE_REPR = re.compile(r"^(?:tensor\(|Parameter containing|<[\w.]+ (?:object )?at 0x|[A-Z]\w*\()")
LABEL = re.compile(r"^\s*[A-Za-z][\w .'/|\[\]-]*[:=]", re.M)


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_code_cell_output_is_only_a_bare_repr(pages, name):
    for cell in pages[name].select("div.cell"):
        texts = [o.get_text() for o in cell.select("div.cell_output pre")]
        text = "\n".join(texts).strip()
        if text and BARE_REPR.match(text) and not LABEL.search(text):
            pytest.fail(
                f"{name}: a cell's only output is a bare repr; say what it is:\n{text[:300]}"
            )


@pytest.mark.parametrize("assignment_id", sorted(RELIES_ON))
def test_problem_set_page_links_back_to_the_chapters_it_builds_on(assignment_id):
    require_site()
    page = HTML / "book" / "exercises" / f"{assignment_id}.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    targets = {a.get("href", "").split("#")[0] for a in soup.find_all("a")}
    for chapter in RELIES_ON[assignment_id]:
        assert f"../{chapter}.html" in targets, f"{assignment_id} does not link to {chapter}"


def test_intro_table_names_every_chapter_set_and_its_graded_functions():
    """The introduction's "you write" column says exactly what each chapter's exercises ask:
    it links the set and names every graded function (from fromscratch.rules)."""
    from fromscratch.rules import CHAPTER_SETS

    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in intro.splitlines() if line.startswith("| {doc}`0")}
    for rules in CHAPTER_SETS:
        row = rows[rules.assignment_id.removeprefix("ch")]
        assert f"{{doc}}`exercises/{rules.assignment_id}`" in row, row
        missing = [f for f in rules.functions if f"`{f}`" not in row]
        assert not missing, (rules.assignment_id, missing)
