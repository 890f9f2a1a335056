"""Every claim the book makes about an output is computed: the mechanism, and a lint for it.

The chapters state numbers in two ways only: glued from the cell that computes them (myst-nb
``glue`` plus ``{glue:text}`key:format```), or checked by a hidden assertion cell (tag
``remove-cell``) right after the computing cell. Both are only worth something if a wrong
claim stops the build, so the first tests build a tiny book with the course's own execution
settings and check that ``jupyter-book build -W`` fails on a false assertion and on a glue
reference to a key no cell computed (and succeeds on the same book with true claims).

The second half is a lint over the prose of ``book/*.md``: after removing code cells, math,
inline code, glue roles, citations, cross-references and link targets, no digit may be left
except in dtype names, the chapter number of a title, and the short allowlist below, where
every entry says why its number is not a measured output.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"

# --------------------------------------------------------------------------------------------
# 1. A wrong claim fails the build
# --------------------------------------------------------------------------------------------

FRONT_MATTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def course_config() -> dict:
    """The course's _config.yml, reduced to what decides how a chapter is executed and parsed.

    Execution (``execute``), MyST extensions (``parse``) and the ``nb_*`` Sphinx settings are
    copied unchanged; the theme, extensions and static paths, which need the course's folders,
    are left out.
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx_config = config.get("sphinx", {}).get("config", {})
    return {
        "title": "claims test",
        "execute": config["execute"],
        "parse": config["parse"],
        "only_build_toc_files": True,
        "sphinx": {"config": {k: v for k, v in sphinx_config.items() if k.startswith("nb_")}},
    }


def build_tiny_book(folder: Path, body: str) -> subprocess.CompletedProcess:
    """Write a one-page book whose page is ``body`` and build it as the course does."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_config.yml").write_text(yaml.safe_dump(course_config(), sort_keys=False))
    (folder / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (folder / "page.md").write_text(FRONT_MATTER + textwrap.dedent(body))
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", "--all", "-W", "--keep-going", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )


GLUE_CELL = """\
```{code-cell} ipython3
from myst_nb import glue

ratio = 81.9
glue("ratio", ratio, display=False)
```
"""

HIDDEN_ASSERTION = """\
```{{code-cell}} ipython3
:tags: [remove-cell]
assert {condition}, "the prose says the ratio is about 82"
```
"""


@pytest.fixture(scope="module")
def jupyter_book() -> Path:
    if not JUPYTER_BOOK.exists():
        pytest.fail(f"jupyter-book is not installed next to {sys.executable}", pytrace=False)
    return JUPYTER_BOOK


def test_true_claims_build(jupyter_book, tmp_path):
    """The control: the same page with a true assertion and a known key builds cleanly."""
    body = (
        "# Claims\n\n"
        + GLUE_CELL
        + HIDDEN_ASSERTION.format(condition="81 < ratio < 83")
        + "\nThe ratio is {glue:text}`ratio:.1f`.\n"
    )
    result = build_tiny_book(tmp_path / "ok", body)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (tmp_path / "ok" / "_build" / "html" / "page.html").read_text()
    assert "81.9" in html  # the glued value reached the prose
    assert "the prose says" not in html  # the hidden cell is not shown


def test_false_hidden_assertion_fails_the_build(jupyter_book, tmp_path):
    body = (
        "# Claims\n\n"
        + GLUE_CELL
        + HIDDEN_ASSERTION.format(condition="40 < ratio < 42")  # the old "41 times" claim
        + "\nThe ratio is about 41.\n"
    )
    result = build_tiny_book(tmp_path / "false", body)
    assert result.returncode != 0, "a false hidden assertion did not fail the build"
    assert "AssertionError" in result.stdout + result.stderr


def test_glue_of_a_missing_key_fails_the_build(jupyter_book, tmp_path):
    body = "# Claims\n\n" + GLUE_CELL + "\nThe ratio is {glue:text}`no_such_key:.1f`.\n"
    result = build_tiny_book(tmp_path / "missing", body)
    assert result.returncode != 0, "a glue reference to a missing key did not fail the build"
    assert "no_such_key" in result.stdout + result.stderr


# --------------------------------------------------------------------------------------------
# 2. The prose states no number that a cell did not compute
# --------------------------------------------------------------------------------------------

# Each entry: (chapter file, the exact text that contains the digits, why it is allowed).
# Keep it short: a measured number belongs in a glue role, a derived one in math.
ALLOWED: list[tuple[str, str, str]] = [
    ("03_matmul.md", "AVX2", "the name of an instruction set"),
    ("03_matmul.md", "AVX-512", "the name of an instruction set"),
    ("03_matmul.md", "Lemma 3.1", "where the bound is in the cited book"),
]

# 0, 1 and 2 as words of mathematics: "dimension 0", "size 1", "a factor of 2".
SMALL_CONSTANTS = {"0", "1", "2"}
DTYPE = r"(?:b?float|u?int|complex)\d+"  # float32, int64, bfloat16 ...
ROLE = re.compile(r"\{(?:glue(?::\w+)?|cite(?::\w+)?|doc|ref|numref|eq|download|term)\}`[^`]*`")
FENCE = re.compile(r"^(`{3,}|~{3,}|:{3,})(.*)$")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of prose of a MyST chapter, with everything that is not prose blanked.

    Removed: the YAML front matter, every fenced block except admonition-like ``:::`` blocks
    whose body is prose (their option lines are removed), display and inline math, inline
    code, MyST roles that glue, cite or link, link targets ``](...)``, labels ``(name)=``,
    comments, and HTML comments.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    if lines and lines[0].strip() == "---":  # front matter
        i = lines.index("---", 1) + 1
    in_display_math = False
    fence: str | None = None
    fence_is_prose = False
    for number, line in enumerate(lines[i:], start=i + 1):
        stripped = line.strip()
        match = FENCE.match(stripped)
        if fence is not None:
            if stripped == fence:
                fence = None
                continue
            if not fence_is_prose or re.match(r"^:\w[\w-]*:", stripped):
                continue  # a code cell, or a directive's option line
            if match and not fence_is_prose:
                continue
        elif match:
            fence = match.group(1)
            directive = match.group(2).strip()
            # Admonitions and figures hold prose; everything else (code cells, math) does not.
            fence_is_prose = bool(
                re.match(r"\{(admonition|note|tip|important|warning|seealso|figure)\}", directive)
            )
            continue
        if stripped.startswith("$$"):
            if stripped.count("$$") == 1:
                in_display_math = not in_display_math
            continue
        if in_display_math or stripped.startswith("%") or stripped.startswith("<!--"):
            continue
        if re.match(r"^\(.*\)=$", stripped):  # a label
            continue
        out.append((number, line))
    # Inline code, math and roles may run over a line break: remove them from the joined text,
    # keeping the line breaks so that line numbers stay right.
    joined = "\n".join(line for _, line in out)

    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    joined = ROLE.sub(blank, joined)
    joined = re.sub(r"``[^`]*``|`[^`]*`", blank, joined)  # inline code
    joined = re.sub(r"\$[^$]*\$", blank, joined)  # inline math
    joined = re.sub(r"\]\([^)]*\)", lambda m: "]" + blank(m)[1:], joined)  # link targets
    joined = re.sub(r"<https?://[^>]*>", blank, joined)
    return list(zip([n for n, _ in out], joined.split("\n"), strict=True))


def stray_numbers(path: Path) -> list[str]:
    allowed = [text for name, text, _ in ALLOWED if name == path.name]
    found = []
    for number, text in prose_lines(path):
        for snippet in allowed:
            text = text.replace(snippet, " ")
        if re.match(r"^#\s+\d+\.\s", text):  # the chapter number in a title, "# 3. Matmul"
            text = re.sub(r"^#\s+\d+\.", "#", text)
        for chapter in re.findall(r"\b(?:chapters?|ch\.)\s+\d+", text, re.I):
            found.append(f"{path.name}:{number}: {chapter!r} must be a {{doc}} link")
        text = re.sub(r"^\s*\d+\.\s", " ", text)  # a numbered list item
        text = re.sub(r"\b[Rr]ungs? \d+(?: (?:and|to) (?:rung )?\d+)?", " ", text)  # rung names
        text = re.sub(r"\bL[123]\b", " ", text)  # cache levels
        text = re.sub(rf"\b{DTYPE}\b", " ", text)
        text = re.sub(r"\b[0-3]-[Dd]\b|\b0-dimensional\b|\b(?:size|stride)-[01]\b", " ", text)
        for token in re.findall(r"[^\s]*\d[^\s]*", text):
            if token.strip("*_()[],.;:!?\"'") in SMALL_CONSTANTS:
                continue
            found.append(f"{path.name}:{number}: {token!r} in: {text.strip()[:120]}")
    return found


CHAPTERS = sorted(p.name for p in BOOK.glob("*.md"))


@pytest.mark.parametrize("name", CHAPTERS)
def test_prose_states_no_uncomputed_number(name):
    stray = stray_numbers(BOOK / name)
    assert not stray, (
        f"{len(stray)} number(s) in the prose of {name} are neither glued ({{glue:text}}) nor "
        "in math nor allowlisted in tests/test_book_claims.py:\n  " + "\n  ".join(stray)
    )


def test_allowlist_entries_still_occur_and_have_reasons():
    for name, text, reason in ALLOWED:
        assert len(reason) > 15, f"allowlist entry {text!r} needs a reason"
        source = (BOOK / name).read_text(encoding="utf-8")
        assert text in source, f"allowlist entry {text!r} no longer occurs in {name}: remove it"


def test_lint_catches_a_stray_number(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        FRONT_MATTER
        + "# 3. Title\n\nA float32 value, {glue:text}`x:.1f`, $2^{24}$ and `a[3]` are fine.\n"
        "But this one is 41 times the work.\n\n```{code-cell} ipython3\nx = 12345\n```\n"
    )
    stray = stray_numbers(page)
    assert len(stray) == 1 and "'41'" in stray[0], stray


def test_references_are_sorted_by_key():
    keys = re.findall(r"^@\w+\{([^,]+),", (BOOK / "references.bib").read_text(), re.M)
    assert keys, "book/references.bib has no entries"
    assert keys == sorted(keys, key=str.lower), f"references.bib is not sorted by key: {keys}"
    assert len(keys) == len(set(keys)), "references.bib has a duplicate key"


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_next_chapter_is_a_link(name):
    """'the next chapter' and 'the previous chapter' must say which, as a {doc} link."""
    for number, text in prose_lines(BOOK / name):
        if re.search(r"\b(?:next|previous) chapter\b", text, re.I):
            source = (BOOK / name).read_text(encoding="utf-8").splitlines()[number - 1]
            assert "{doc}`" in source, f"{name}:{number}: name the chapter with a {{doc}} link"


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_glue_reference_has_a_glue_call(name):
    """A fast check of what the build enforces: each {glue:...}`key` names a key that a code
    cell of the same chapter glues (an f-string key such as f"gain_{key}" matches any value)."""
    source = (BOOK / name).read_text(encoding="utf-8")
    used = set(re.findall(r"\{glue(?::\w+)?\}`([^`:]+)", source))
    patterns = [re.escape(k) for k in re.findall(r"""\bglue\(\s*["']([^"'{}]+)["']""", source)] + [
        re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(k))
        for k in re.findall(r"""\bglue\(\s*f["']([^"']+)["']""", source)
    ]
    missing = sorted(k for k in used if not any(re.fullmatch(p, k) for p in patterns))
    assert not missing, f"{name}: glue references without a glue() call: {missing}"
