"""`course publish DEST`: the student edition holds what students need and nothing private.

The leak check is line by line. Every line of solution code (nbgrader BEGIN SOLUTION ..
END SOLUTION regions, or a whole solution cell that has no markers) and every hidden-test line
(BEGIN HIDDEN TESTS .. END HIDDEN TESTS) of solutions/*/*.ipynb is looked for in every file of
DEST and of the built site, search index included.

A line is a secret when it carries enough to identify a solution and is not public already:
- it has at least MIN_TOKENS tokens (names, numbers, operators, punctuation), which leaves out
  `return x`, `else:`, `pass`, `import torch`, `x += 1` and closing brackets;
- it occurs in no public source, as a line or within one: not outside the private regions of
  any source notebook (the released notebooks show those parts by design), not in the book's
  chapters, not in the student library. Idioms such as `loss.backward()` or `for p in
  params:` are written in the chapters too; publishing cannot leak what the authors publish
  themselves. (The flip side: this test cannot tell whether a chapter author copied a
  solution line into a chapter.)

The search index holds words, not lines, so it gets a second check: no name that occurs only
in private code (in no public part of the notebooks, the book or the library) may be a term
of searchindex.js.

The launch buttons of the built site must be well-formed and point at files of DEST; the
JupyterHub ones must mean what nbgitpuller's own link generator writes. Binder's environment must
resolve torch to its CPU build from PyTorch's CPU index, at the course's version. Publishing
refuses the template's example values unless told otherwise. The edition's workflow (build the
book, deploy it to GitHub Pages) and the course's (run .ci/run) must pass zizmor and GitHub's
workflow schema, and the edition's build steps must build the book here.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import keyword
import os
import re
import shutil
import subprocess
import sys
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import nbformat
import pytest
import snowballstemmer
import yaml
from bs4 import BeautifulSoup
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from built_site import require_site
from coursekit.publish import PublishError, prepare_dest, publish, read_lock

ROOT = Path(__file__).resolve().parent.parent
MIN_TOKENS = 4
TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\*\*=?|//=?|->|<<=?|>>=?|[-+*/%@&|^<>!=]=|\S")
# Lines a solution may legitimately share with the public material; add with a reason.
ALLOWED_SHARED_LINES: set[str] = set()


# --- Extracting the private lines (the oracle, independent of coursekit.publish) -------------


@dataclass(frozen=True)
class Secret:
    notebook: str
    kind: str  # "solution" or "hidden test"
    line: str  # normalised


def normalise(line: str) -> str:
    return " ".join(line.split())


def is_informative(line: str) -> bool:
    return len(TOKEN.findall(line)) >= MIN_TOKENS


def regions(lines: list[str], begin: str, end: str) -> tuple[list[str], list[str]]:
    """(inside, outside): the lines between ``begin`` and ``end`` marker lines, and the rest."""
    inside, outside, within = [], [], False
    for line in lines:
        if begin in line:
            within = True
        elif end in line:
            within = False
        else:
            (inside if within else outside).append(line)
    return inside, outside


def split_private(cell) -> tuple[list[tuple[str, str]], list[str]]:
    """([(kind, line)], public lines) of one cell of an nbgrader source notebook."""
    meta = cell.metadata.get("nbgrader", {})
    lines = cell.source.splitlines()
    private: list[tuple[str, str]] = []
    if meta.get("solution"):
        if any("BEGIN SOLUTION" in line for line in lines):
            inside, lines = regions(lines, "BEGIN SOLUTION", "END SOLUTION")
        else:  # nbgrader replaces a solution cell without markers whole
            inside, lines = lines, []
        private += [("solution", line) for line in inside]
    if cell.cell_type == "code":
        inside, lines = regions(lines, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        private += [("hidden test", line) for line in inside]
    return private, lines


def source_notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "solutions").glob("*/*.ipynb"))


def public_source_lines(root: Path = ROOT) -> set[str]:
    """Normalised lines of the chapters and the student library: public by authorship."""
    lines: set[str] = set()
    for folder, pattern in (("book", "**/*.md"), ("lib/fromscratch", "**/*.py")):
        for path in (root / folder).glob(pattern):
            lines |= {normalise(line) for line in path.read_text(encoding="utf-8").splitlines()}
    return lines


def secrets_of(
    notebooks: list[Path], public_sources: set[str] | None = None
) -> tuple[list[Secret], set[str], str]:
    """(secrets, names in private code, the notebooks' public text)."""
    private_lines: list[tuple[str, str, str]] = []
    private_code, public_text = [], []
    public = set(public_sources or set()) | ALLOWED_SHARED_LINES
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            private, rest = split_private(cell)
            private_lines += [
                (path.relative_to(path.parents[2]).as_posix(), k, line) for k, line in private
            ]
            public |= {normalise(line) for line in rest}
            public_text.append("\n".join(rest))
            if cell.cell_type == "code":
                private_code.append("\n".join(line for _, line in private))
    # within a public line counts too: `new = factory()` in a sentence of the released prose,
    # or a solution line that a library line extends with a longer comment, is public already
    public_blob = "\n".join(public)
    secrets = []
    for notebook, kind, line in private_lines:
        norm = normalise(line)
        if is_informative(norm) and norm not in public_blob:
            secrets.append(Secret(notebook, kind, norm))
    return secrets, code_names("\n".join(private_code)), "\n".join(public_text)


def code_names(code: str) -> set[str]:
    """Names (identifiers of 3+ characters, keywords left out) in ``code``, comments ignored."""
    names: set[str] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NAME:
                names.add(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        names = set(re.findall(r"[A-Za-z_]\w*", re.sub(r"#.*", "", code)))
    return {n for n in names if len(n) >= 3 and not keyword.iskeyword(n)}


# --- Reading everything in a tree as text -----------------------------------------------------


def notebook_text(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for value in output.get("data", {}).values():
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


def file_texts(path: Path) -> list[str]:
    """Every reading of one file as text: raw, and decoded for HTML and notebooks."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []  # binary (images, fonts, wheels)
    texts = [raw]
    if path.suffix == ".html":
        texts.append(BeautifulSoup(raw, "html.parser").get_text())
    elif path.suffix == ".ipynb":
        try:
            texts.append(notebook_text(path))
        except Exception:  # not a notebook after all; the raw text is still scanned
            pass
    return texts


def tree_corpus(root: Path) -> dict[str, str]:
    """``{relative path: normalised text}`` for every file under ``root`` (.git left out)."""
    corpus = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            text = "\n".join(file_texts(path))
            if text:
                corpus[path.relative_to(root).as_posix()] = "\n".join(
                    normalise(line) for line in text.splitlines()
                )
    return corpus


def find_leaks(secrets: list[Secret], corpus: dict[str, str]) -> list[str]:
    leaks = []
    for secret in secrets:
        for name, text in corpus.items():
            if secret.line in text:
                leaks.append(f"{secret.kind} line of {secret.notebook} in {name}: {secret.line}")
    return leaks


def search_terms(site: Path) -> set[str]:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return set(index.get("terms", {})) | set(index.get("titleterms", {}))


def public_vocabulary(root: Path, notebooks_public_text: str) -> set[str]:
    """Every word of the public sources: the book, the library, the notebooks' public parts."""
    texts = [notebooks_public_text]
    for folder, pattern in (("book", "**/*.md"), ("lib/fromscratch", "**/*.py")):
        texts += [p.read_text(encoding="utf-8") for p in (root / folder).glob(pattern)]
    return {w.lower() for w in re.findall(r"\w+", "\n".join(texts))}


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    # _config.yml may still hold the template's example values: a preview is enough here
    return publish(tmp_path_factory.mktemp("student-edition"), ROOT, allow_placeholders=True)


@pytest.fixture(scope="module")
def site() -> Path:
    return require_site()


@pytest.fixture(scope="module")
def private():
    return secrets_of(source_notebooks(), public_source_lines())


# --- What the student edition holds -----------------------------------------------------------

PUBLIC_TOP_LEVEL = {
    ".course-publish",
    ".github",
    ".gitignore",
    "README.md",
    "_assets",
    "_config.yml",
    "_ext",
    "_templates",
    "_toc.yml",
    "assignments",
    "book",
    "hub",
    "lib",
    "pyproject.toml",
    "requirements-book.txt",
    "requirements.txt",
    "runtime.txt",
    "web",
}


def toc_files(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            found.extend(str(node[k]) for k in ("root", "file") if k in node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def test_only_public_parts_at_the_top(edition):
    top = {p.name for p in edition.dest.iterdir()}
    assert top <= PUBLIC_TOP_LEVEL, f"unexpected in the student edition: {top - PUBLIC_TOP_LEVEL}"
    assert {"book", "lib", "_config.yml", "_toc.yml", "requirements.txt"} <= top
    assert {p.name for p in (edition.dest / "lib").iterdir()} == {"fromscratch"}


def test_nothing_private_by_name(edition):
    private = {"solutions", "coursekit", "submitted", "autograded", "feedback", "gradebook.db"}
    private |= {"nbgrader_config.py", "exports", "tests", "Makefile", "requirements.lock"}
    found = [p for p in edition.dest.rglob("*") if p.name in private]
    assert not found, f"private paths in the student edition: {found}"


def test_book_sources_and_a_twin_for_every_myst_chapter(edition):
    for entry in toc_files(ROOT):
        matches = list((edition.dest / Path(entry).parent).glob(Path(entry).name + ".*"))
        assert matches, f"{entry} from _toc.yml is missing in the student edition"
    myst = [p for p in (ROOT / "book").rglob("*.md") if "kernelspec:" in p.read_text()[:1000]]
    assert myst, "no MyST notebook chapter found in book/"
    for chapter in myst:
        twin = edition.dest / chapter.relative_to(ROOT).with_suffix(".ipynb")
        assert twin.is_file(), f"no .ipynb twin for {chapter.relative_to(ROOT)}"
        nb = nbformat.read(twin, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        chapter_code = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", chapter.read_text(), re.S)
        assert len(code) == len(chapter_code) + 1, f"{twin.name}: cells differ from the chapter"
        assert "fromscratch" in code[0] and "%pip install" in code[0], "no setup cell first"


def test_released_assignments_are_copied_whole(edition):
    released = ROOT / "assignments"
    for folder in sorted(p for p in released.glob("*") if p.is_dir()) if released.is_dir() else []:
        for path in folder.rglob("*"):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                copy = edition.dest / path.relative_to(ROOT)
                assert copy.is_file(), f"{path.relative_to(ROOT)} was not published"
                assert copy.read_bytes() == path.read_bytes()


def test_student_library_is_complete_and_imports_nothing_private(edition):
    source = {p.relative_to(ROOT) for p in (ROOT / "lib/fromscratch").rglob("*.py")}
    published = {p.relative_to(edition.dest) for p in (edition.dest / "lib/fromscratch").rglob("*")}
    assert source <= published, f"library files not published: {source - published}"
    for path in (edition.dest / "lib/fromscratch").rglob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text(), re.M)
        bad = [m for m in imports if m.split(".")[0] in {"coursekit", "tests", "nbgrader"}]
        assert not bad, f"{path.name} imports {bad}"


def test_student_library_installs_on_its_own(edition, tmp_path):
    """`pip wheel` of the edition builds a wheel of fromscratch alone (no network, no deps)."""
    tree = tmp_path / "tree"  # pip builds in place: build from a copy, keep the edition clean
    shutil.copytree(edition.dest, tree)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
        + ["--wheel-dir", str(tmp_path / "wheels"), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "wheels").glob("fromscratch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"fromscratch"}, f"the wheel holds {packages}"
    assert "fromscratch/__init__.py" in names


def test_environment_files_pin_like_the_lock(edition):
    lines = (edition.dest / "requirements.txt").read_text().splitlines()
    pins = {}
    for req in requirements_in(edition.dest / "requirements.txt"):
        (spec,) = req.specifier  # exactly one ==, on every line
        assert spec.operator == "==", f"{req}: not an exact pin"
        pins.setdefault(req.name, set()).add(Version(spec.version).base_version)
    for needed in ("jupytext", "nbgitpuller", "torch", "jupyterlab", "nbgrader"):
        assert needed in pins, f"requirements.txt does not pin {needed}"
    lock = read_lock(ROOT)
    for name, versions in pins.items():
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in lock:
            assert versions == {lock[key]}, f"{name}=={versions} but the lock has {lock[key]}"
    assert "-e ." in lines, "requirements.txt must install the course library"
    assert (edition.dest / "runtime.txt").read_text().startswith("python-3.")


# What a hub configuration must never hold: JupyterHub's own secrets, set in the file instead of
# being made by JupyterHub at start, and anything that looks like a key or a password.
HUB_SECRET_SETTINGS = re.compile(
    r"\.(cookie_secret|api_token|auth_token|crypt_key|client_secret|password|ssl_key)\s*=|"
    r"(CONFIGPROXY_AUTH_TOKEN|JUPYTERHUB_CRYPT_KEY|JPY_COOKIE_SECRET)\W*[:=]|"
    r"\.api_tokens\s*=|\.services\s*=",
    re.IGNORECASE,
)
LONG_RANDOM = re.compile(r"\b[0-9a-fA-F]{32,}\b|[A-Za-z0-9+/]{40,}={0,2}")  # hex, base64 keys


def test_the_hub_example_is_the_tested_one_and_holds_no_secrets(edition):
    """hub/jupyterhub_config.py is the configuration tests/hub/ runs a JupyterHub with, byte for
    byte; it sets no secret (JupyterHub makes its cookie secret and proxy token itself); and it
    loads, with its defaults, into the PAM + LocalProcessSpawner + exchange setup it describes."""
    from traitlets.config.loader import PyFileConfigLoader

    example = edition.dest / "hub" / "jupyterhub_config.py"
    assert example.read_bytes() == (ROOT / "hub" / "jupyterhub_config.py").read_bytes()
    runs = (ROOT / "tests" / "hub" / "hub_setup.py").read_text()
    assert 'HUB_CONFIG = ROOT / "hub" / "jupyterhub_config.py"' in runs, "tests/hub runs another"
    for name in ("package.json", "package-lock.json"):
        assert (edition.dest / "hub" / name).read_bytes() == (ROOT / "hub" / name).read_bytes()
    text = example.read_text()
    lock = read_lock(ROOT)
    assert f"jupyterhub=={lock['jupyterhub']}" in text, "the example names another JupyterHub"
    assert not HUB_SECRET_SETTINGS.search(text), HUB_SECRET_SETTINGS.search(text)
    assert not LONG_RANDOM.findall(text), LONG_RANDOM.findall(text)
    names = {k for k in os.environ if k.startswith("COURSE_")}
    saved = {k: os.environ.pop(k) for k in names}  # the defaults, as on a real hub
    try:
        config = PyFileConfigLoader(example.name, str(example.parent)).load_config()
    finally:
        os.environ.update(saved)
    assert config.JupyterHub.authenticator_class == "pam"
    assert config.JupyterHub.spawner_class == "localprocess"
    assert config.PAMAuthenticator.admin_groups == {"course-instructors"}
    assert config.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    assert config.JupyterHub.cookie_secret_file == "/srv/jupyterhub/jupyterhub_cookie_secret"
    assert "cookie_secret" not in config.JupyterHub and "api_tokens" not in config.JupyterHub
    assert callable(config.Spawner.pre_spawn_hook)
    readme = (edition.dest / "README.md").read_text()
    assert "hub/jupyterhub_config.py" in readme and "npm ci --prefix hub" in readme


@pytest.mark.parametrize(
    "line",
    [
        "c.JupyterHub.cookie_secret = bytes.fromhex('00')",
        "c.ConfigurableHTTPProxy.auth_token = 'x'",
        "c.JupyterHub.api_tokens = {'x': 'admin'}",
        "os.environ['CONFIGPROXY_AUTH_TOKEN'] = 'x'",
        "c.PAMAuthenticator.password = 'x'",
        "TOKEN = '" + "3f" * 16 + "'",
        "KEY = '" + "Zm9v" * 10 + "'",
    ],
)
def test_the_hub_secret_check_can_fail(line):
    assert HUB_SECRET_SETTINGS.search(line) or LONG_RANDOM.search(line), line


def test_twins_are_not_a_second_source_for_the_book(edition):
    """The book's own extension excludes the twins, so the edition builds without duplicates."""
    sys.path.insert(0, str(edition.dest / "_ext"))
    try:
        import notebook_twins
    finally:
        sys.path.pop(0)
    twins = notebook_twins.find_twins(edition.dest)
    expected = sorted(
        p.relative_to(edition.dest).as_posix() for p in edition.dest.glob("book/*.ipynb")
    )
    assert twins == expected


def test_publishing_twice_gives_the_same_tree_and_keeps_git(edition, tmp_path):
    dest = tmp_path / "edition"
    publish(dest, source=ROOT, allow_placeholders=True)
    (dest / ".git").mkdir()
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (dest / "stale.txt").write_text("from an older publish\n")
    publish(dest, source=ROOT, allow_placeholders=True)
    assert (dest / ".git" / "HEAD").is_file(), ".git was not kept"
    assert not (dest / "stale.txt").exists(), "a stale file survived"
    first = {p.relative_to(edition.dest): p.read_bytes() for p in edition.dest.rglob("*.ipynb")}
    second = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*.ipynb")}
    assert first == second, "publishing is not deterministic"


@pytest.mark.parametrize("where", ["root", "book", "foreign"])
def test_refuses_a_dest_it_must_not_clear(where, tmp_path):
    if where == "foreign":
        dest = tmp_path / "someone-elses"
        dest.mkdir()
        (dest / "notes.txt").write_text("keep me")
    else:
        dest = ROOT if where == "root" else ROOT / "book" / "out"
    with pytest.raises(PublishError):
        prepare_dest(dest, ROOT)
    if where == "foreign":
        assert (dest / "notes.txt").read_text() == "keep me"


# --- Nothing private, line by line ------------------------------------------------------------


def test_leak_check_finds_a_planted_leak(tmp_path):
    """The checker itself: a solution line and a hidden-test line planted in a tree are found."""
    nb = nbformat.v4.new_notebook()
    solution = "def f(A):\n    ### BEGIN SOLUTION\n    return torch.linalg.eigvalsh(A)[-1]\n"
    solution += "    ### END SOLUTION\n"
    tests = "assert f(I) == 1\n### BEGIN HIDDEN TESTS\nassert f(torch.eye(3) * 7) == 7\n"
    tests += "### END HIDDEN TESTS\n"
    nb.cells = [
        nbformat.v4.new_code_cell(solution, metadata={"nbgrader": {"solution": True}}),
        nbformat.v4.new_code_cell(tests, metadata={"nbgrader": {"grade": True}}),
        nbformat.v4.new_markdown_cell("x", metadata={"nbgrader": {"solution": True}}),
    ]
    path = tmp_path / "solutions" / "ps" / "ps.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    secrets, names, _ = secrets_of([path])
    assert {(s.kind, s.line) for s in secrets} == {
        ("solution", "return torch.linalg.eigvalsh(A)[-1]"),
        ("hidden test", "assert f(torch.eye(3) * 7) == 7"),
    }
    assert "eigvalsh" in names
    tree = tmp_path / "tree"
    tree.mkdir()
    leaked = nbformat.v4.new_notebook()
    leaked.cells = [nbformat.v4.new_code_cell("def f(A):\n  return  torch.linalg.eigvalsh(A)[-1]")]
    nbformat.write(leaked, tree / "leaked.ipynb")
    (tree / "page.html").write_text(
        '<pre><span class="n">assert</span> f(torch.eye(3) * 7) == 7</pre>'
    )
    (tree / "clean.py").write_text("assert f(I) == 1\n")
    leaks = find_leaks(secrets, tree_corpus(tree))
    assert len(leaks) == 2 and any("leaked.ipynb" in x for x in leaks)
    assert any("page.html" in x for x in leaks)


def test_no_solution_or_hidden_test_line_in_the_student_edition(edition, private):
    secrets, _, _ = private
    if not source_notebooks():
        pytest.skip("no solutions/*/*.ipynb yet")
    assert secrets, "solutions exist but no private line was found: is the extraction broken?"
    leaks = find_leaks(secrets, tree_corpus(edition.dest))
    assert not leaks, "private lines in the student edition:\n" + "\n".join(leaks[:30])


def test_no_solution_or_hidden_test_line_in_the_built_site(site, private):
    secrets, _, _ = private
    if not source_notebooks():
        pytest.skip("no solutions/*/*.ipynb yet")
    leaks = find_leaks(secrets, tree_corpus(site))
    assert not leaks, "private lines in the built site:\n" + "\n".join(leaks[:30])


def test_no_private_only_name_is_a_search_term(site, private):
    _, names, public_text = private
    if not source_notebooks():
        pytest.skip("no solutions/*/*.ipynb yet")
    stem = snowballstemmer.stemmer("porter").stemWord
    only_private = {n.lower() for n in names} - public_vocabulary(ROOT, public_text)
    terms = search_terms(site)
    found = sorted(n for n in only_private if n in terms or stem(n) in terms)
    assert not found, f"names found only in private code are searchable on the site: {found}"


# --- Launch buttons ---------------------------------------------------------------------------


def launch_config() -> tuple[dict, dict]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"], config["launch_buttons"]


def launch_links(site: Path) -> dict[str, dict[str, str]]:
    """``{page: {service: url}}`` for every launch button of the built site."""
    repository, launch = launch_config()
    hosts = {urlsplit(launch[k]).netloc: k for k in launch if k.endswith("_url")}
    links: dict[str, dict[str, str]] = {}
    for page in sorted(site.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        # the theme's launch buttons, and the launch links of an Exercises page's box
        for a in soup.select(".dropdown-launch-buttons a[href], a.btn[href], .admonition a[href]"):
            service = hosts.get(urlsplit(a["href"]).netloc)
            if service:
                links.setdefault(page.relative_to(site).as_posix(), {})[service] = a["href"]
    return links


def target_of(service: str, url: str, repository: dict) -> str:
    """The repository path a launch URL opens; asserts the URL's form on the way."""
    org, repo = urlsplit(repository["url"]).path.strip("/").split("/")[:2]
    branch = repository.get("branch", "main")
    parts = urlsplit(url)
    assert parts.scheme == "https", f"{url}: not https"
    if service == "binderhub_url":
        assert parts.path == f"/v2/gh/{org}/{repo}/{branch}", f"{url}: wrong repository or branch"
        (urlpath,) = parse_qs(parts.query)["urlpath"]
        assert urlpath.startswith("lab/tree/"), f"{url}: does not open JupyterLab"
        return urlpath.removeprefix("lab/tree/")
    if service == "jupyterhub_url":
        assert parts.path == "/hub/user-redirect/git-pull", f"{url}: not an nbgitpuller link"
        query = parse_qs(parts.query)
        assert query["repo"] == [repository["url"]], f"{url}: pulls another repository"
        assert query["branch"] == [branch], f"{url}: pulls another branch"
        (urlpath,) = query["urlpath"]
        prefix = f"lab/tree/{repo}/"  # nbgitpuller clones into a folder named after the repo
        assert urlpath.startswith(prefix), f"{url}: opens outside the pulled folder"
        return urlpath.removeprefix(prefix)
    if service == "colab_url":
        prefix = f"/github/{org}/{repo}/blob/{branch}/"
        assert parts.path.startswith(prefix), f"{url}: wrong repository or branch"
        return parts.path.removeprefix(prefix)
    raise AssertionError(f"unknown launch service {service}")


def test_launch_buttons_open_files_of_the_student_edition(site, edition):
    repository, launch = launch_config()
    services = {k for k in launch if k.endswith("_url")}
    assert {"binderhub_url", "jupyterhub_url", "colab_url"} <= services
    links = launch_links(site)
    myst_pages = [
        p.relative_to(ROOT).with_suffix(".html").as_posix()
        for p in (ROOT / "book").rglob("*.md")
        if "kernelspec:" in p.read_text()[:1000]
    ]
    assert myst_pages, "no MyST chapter"
    exercise_pages = [
        p.relative_to(ROOT).with_suffix(".html").as_posix()
        for p in (ROOT / "book" / "exercises").glob("*.md")
    ]
    for page in myst_pages + exercise_pages:  # every chapter and every set opens everywhere
        assert set(links.get(page, {})) == services, f"{page}: launch buttons {links.get(page)}"
    for page, by_service in links.items():
        for service, url in by_service.items():
            target = target_of(service, url, repository)
            path = edition.dest / target
            assert path.is_file(), f"{page}: {service} opens {target}, not in the student edition"
            assert path.suffix == ".ipynb", f"{page}: {service} opens {target}, not a notebook"
            nbformat.validate(nbformat.read(path, as_version=4))


def test_repository_button_points_at_the_student_edition(site):
    repository, _ = launch_config()
    for page in ("book/" + p.name for p in (site / "book").glob("*.html")):
        html = (site / page).read_text(encoding="utf-8")
        assert f'href="{repository["url"]}"' in html, f"{page}: no link to the student edition"


def test_jupyterhub_links_follow_nbgitpuller_format(site):
    """Every JupyterHub link of the site (the theme's buttons and the Exercises pages') means
    what nbgitpuller's own link generator would write for the file that page opens."""
    repository, launch = launch_config()
    hub = launch["jupyterhub_url"]
    found = 0
    for page, by_service in launch_links(site).items():
        if "jupyterhub_url" not in by_service:
            continue
        exercise = re.fullmatch(r"book/exercises/(\w+)\.html", page)
        opens = f"assignments/{exercise[1]}/{exercise[1]}.ipynb" if exercise else page
        opens = re.sub(r"\.html$", ".ipynb", opens)
        expected = nbgitpuller_link(hub, repository["url"], repository["branch"], opens)
        assert same_link(by_service["jupyterhub_url"], expected), (
            f"{page}: {by_service['jupyterhub_url']} is not nbgitpuller's {expected}"
        )
        found += 1
    assert found, "no JupyterHub link on the site"


def test_problem_set_launch_links_follow_nbgitpuller_format():
    from coursekit.problemsets.pages import launch_links as set_links

    repository, launch = launch_config()
    path = "assignments/ps1_power_method/ps1_power_method.ipynb"
    (hub_link,) = [url for label, url in set_links(path) if "JupyterHub" in label]
    expected = nbgitpuller_link(
        launch["jupyterhub_url"], repository["url"], repository["branch"], path
    )
    assert same_link(hub_link, expected), f"{hub_link} is not nbgitpuller's {expected}"


def test_the_link_format_check_can_fail():
    """The comparison itself: another file, branch, folder or an unencoded & are told apart."""
    hub, repo = "https://hub.uni.edu", "https://github.com/uni/course"
    good = nbgitpuller_link(hub, repo, "main", "book/01.ipynb")
    assert same_link(
        f"{hub}/hub/user-redirect/git-pull?repo={repo}&branch=main"
        "&urlpath=lab/tree/course/book/01.ipynb",
        good,
    )  # unencoded slashes and colons are fine: they decode to the same values
    for bad in (
        nbgitpuller_link(hub, repo, "dev", "book/01.ipynb"),
        nbgitpuller_link(hub, repo, "main", "book/02.ipynb"),
        good.replace("lab%2Ftree%2Fcourse", "lab%2Ftree%2Fother"),
        good.replace("/hub/user-redirect/git-pull", "/user-redirect/git-pull"),
        f"{hub}/hub/user-redirect/git-pull?repo={repo}&branch=main&x=1"
        "&urlpath=lab/tree/course/book/01.ipynb",
        good.replace("01.ipynb", "a&b.ipynb"),
    ):
        assert not same_link(bad, good), bad


def nbgitpuller_link(hub: str, repo: str, branch: str, path: str) -> str:
    """The link nbgitpuller's generator writes for JupyterLab (its docs/_static/link_gen/link.js,
    generateRegularUrl: parameters repo, urlpath, branch, form-encoded, on
    HUB/hub/user-redirect/git-pull; urlpath = lab/tree/<clone folder>/<path>). The clone folder
    is the repository URL's last part: nbgitpuller's handler clones into targetpath, which
    defaults to repo.rstrip('/').split('/')[-1]."""
    folder = repo.rstrip("/").split("/")[-1]
    query = urlencode({"repo": repo, "urlpath": f"lab/tree/{folder}/{path}", "branch": branch})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def same_link(url: str, expected: str) -> bool:
    """Same scheme, host and path, and the same decoded parameters (none more, none less)."""
    a, b = urlsplit(url), urlsplit(expected)
    if (a.scheme, a.netloc, a.path) != (b.scheme, b.netloc, b.path):
        return False
    try:
        return parse_qs(a.query, strict_parsing=True) == parse_qs(b.query, strict_parsing=True)
    except ValueError:
        return False


# --- The environment Binder builds: torch's CPU build, from PyTorch's CPU wheel index ---------

CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # the issue's, not read from coursekit
# Binder's (repo2docker's) image: Linux on x86-64; the Python comes from runtime.txt.
BINDER_MARKERS = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}


def read_requirements(path: Path) -> tuple[list[Requirement], list[str]]:
    """(requirements, index URLs) of a pip requirements file, as pip reads it: comments and
    blank lines dropped, `-r FILE` followed, `-e .` (the local project) left out."""
    requirements, indexes = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line or line.startswith(("-e ", "--editable ")):
            continue
        option = re.fullmatch(r"(-r|--requirement|--index-url|--extra-index-url)\s+(\S+)", line)
        if option and option[1] in ("-r", "--requirement"):
            more, more_indexes = read_requirements(path.parent / option[2])
            requirements += more
            indexes += more_indexes
        elif option:
            indexes.append(option[2])
        else:
            assert not line.startswith("-"), f"{path.name}: unexpected option {line!r}"
            requirements.append(Requirement(line))
    return requirements, indexes


def requirements_in(path: Path) -> list[Requirement]:
    return read_requirements(path)[0]


def applying(requirements: list[Requirement], name: str, markers: dict) -> list[Requirement]:
    return [
        r for r in requirements if r.name == name and (not r.marker or r.marker.evaluate(markers))
    ]


def course_torch() -> str:
    version = read_lock(ROOT)["torch"]
    assert version == "2.13.0", f"the course's torch is {version}; update the issue's pin here"
    return version


def test_binder_resolves_torch_to_the_cpu_build_of_the_course_version(edition):
    requirements, indexes = read_requirements(edition.dest / "requirements.txt")
    python = (edition.dest / "runtime.txt").read_text().strip().removeprefix("python-")
    binder = {**BINDER_MARKERS, "python_version": python, "python_full_version": f"{python}.0"}
    (torch,) = applying(requirements, "torch", binder)
    version = course_torch()
    assert torch.specifier.contains(f"{version}+cpu"), f"{torch} does not take the CPU build"
    # PyPI's torch 2.13.0 (the build with CUDA libraries) must not satisfy it: only the CPU
    # index has +cpu versions, so pip can only take torch from there.
    assert not torch.specifier.contains(version), f"{torch} also takes the default CUDA build"
    assert not torch.specifier.contains(f"{version}+cu126"), f"{torch} takes a CUDA build"
    assert [i.rstrip("/") for i in indexes] == [CPU_INDEX], f"index options: {indexes}"
    # The page pip reads for torch (PEP 503's simple API: INDEX/<normalised name>/), and the
    # wheel of Binder's Python it finds there (the name PyTorch gives its CPU wheels).
    page = f"{indexes[0].rstrip('/')}/{canonicalize_name(torch.name)}/"
    assert page == "https://download.pytorch.org/whl/cpu/torch/"
    tag = "cp" + python.replace(".", "")
    wheel = f"torch-{version}+cpu-{tag}-{tag}-manylinux_2_28_x86_64.whl"
    name, wheel_version, _, tags = parse_wheel_filename(wheel)
    assert torch.specifier.contains(wheel_version) and name == "torch"
    assert any(t.interpreter == tag and t.platform.endswith("x86_64") for t in tags)


def test_macos_gets_the_plain_version_windows_the_cpu_build(edition):
    requirements = requirements_in(edition.dest / "requirements.txt")
    version = course_torch()
    mac = {**BINDER_MARKERS, "sys_platform": "darwin", "platform_system": "Darwin"}
    (torch,) = applying(requirements, "torch", mac | {"python_version": "3.11"})
    assert str(torch.specifier) == f"=={version}", f"macOS has no +cpu wheels: {torch}"
    windows = {**BINDER_MARKERS, "sys_platform": "win32", "platform_system": "Windows"}
    (torch,) = applying(requirements, "torch", windows | {"python_version": "3.11"})
    assert torch.specifier.contains(f"{version}+cpu")


def test_the_course_runs_the_torch_build_that_binder_installs(edition):
    """The course's own tests ran on the torch Binder installs: same version, CPU build."""
    installed = importlib.metadata.version("torch")
    (torch,) = applying(requirements_in(edition.dest / "requirements.txt"), "torch", {})
    assert torch.specifier.contains(installed), f"the course runs torch {installed}, not {torch}"


def test_book_requirements_add_jupyter_book_to_the_environment(edition):
    requirements, indexes = read_requirements(edition.dest / "requirements-book.txt")
    names = {r.name for r in requirements}
    assert {"torch", "nbgitpuller", "jupyter-book", "sphinxcontrib-bibtex"} <= names
    (book,) = [r for r in requirements if r.name == "jupyter-book"]
    assert book.specifier.contains(read_lock(ROOT)["jupyter-book"])
    assert [i.rstrip("/") for i in indexes] == [CPU_INDEX]


# --- Example values: publishing refuses them -------------------------------------------------

TEMPLATE_REPO = "https://github.com/pytorch-from-scratch/course"
TEMPLATE_HUB = "https://jupyterhub.example.org"


def small_course(root: Path, repo: str, hub: str | None) -> Path:
    """A course with the real _config.yml, lock and library, and ``repo``/``hub`` set."""
    root.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["repository"]["url"] = repo
    if hub is None:
        config["launch_buttons"].pop("jupyterhub_url", None)
    else:
        config["launch_buttons"]["jupyterhub_url"] = hub
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\n", encoding="utf-8")
    shutil.copy(ROOT / "requirements.lock", root / "requirements.lock")
    shutil.copytree(ROOT / "lib" / "fromscratch", root / "lib" / "fromscratch")
    return root


@pytest.mark.parametrize(
    ("repo", "hub", "example"),
    [
        (TEMPLATE_REPO, "https://hub.uni.edu", "repository.url"),
        (TEMPLATE_REPO, None, "repository.url"),
        ("https://github.com/uni/ml-course", TEMPLATE_HUB, "launch_buttons.jupyterhub_url"),
        ("https://github.com/uni/ml-course", "https://hub.staging.example.com/", "jupyterhub"),
        ("https://github.com/uni/ml-course", "https://hub.test", "launch_buttons.jupyterhub_url"),
        ("https://github.com/uni/ml-course", "https://hub.uni.edu", None),
        ("https://github.com/uni/ml-course", None, None),
        ("https://github.com/example/course", "https://hub.example-uni.org", None),
    ],
)
def test_publish_refuses_the_template_example_values(tmp_path, repo, hub, example):
    course = small_course(tmp_path / "course", repo, hub)
    dest = tmp_path / "edition"
    if example is None:
        edition = publish(dest, course)
        assert not edition.placeholders
        assert (dest / "requirements.txt").is_file()
        return
    with pytest.raises(PublishError, match=example) as refused:
        publish(dest, course)
    assert "--allow-placeholders" in str(refused.value) and "\n" not in str(refused.value)
    assert not dest.exists(), "a refused publish wrote DEST"
    edition = publish(dest, course, allow_placeholders=True)
    assert edition.placeholders and "WARNING: example values kept" in edition.summary()


def test_course_publish_says_so_in_one_line(tmp_path):
    course = small_course(tmp_path / "course", TEMPLATE_REPO, TEMPLATE_HUB)
    dest = tmp_path / "edition"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    command = [sys.executable, "-m", "coursekit", "publish", "--source", str(course), str(dest)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("course publish: error: _config.yml still has the template's example")
    assert TEMPLATE_REPO in line and TEMPLATE_HUB in line and "--allow-placeholders" in line
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    result = subprocess.run(
        command[:4] + ["--allow-placeholders", *command[4:]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "not empty" in result.stderr, result.stderr  # then DEST


# --- The workflows: the edition's (build + deploy to Pages) and the course's (.ci/run) -------

VENV_BIN = Path(sys.executable).parent
COURSE_WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def lint_workflow(path: Path) -> list[str]:
    """What zizmor (offline audits) and check-jsonschema (GitHub's workflow schema) object to."""
    problems = []
    for command in (
        [VENV_BIN / "zizmor", "--offline", "--no-progress", path],
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
    ):
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            problems.append(f"{command[0].name}: {result.stdout[-3000:]}{result.stderr[-1000:]}")
    return problems


def edition_workflow(edition) -> Path:
    return edition.dest / ".github" / "workflows" / "book.yml"


def test_the_workflows_pass_the_linters(edition):
    for path in (edition_workflow(edition), COURSE_WORKFLOW):
        problems = lint_workflow(path)
        assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_linters_catch_broken_workflows(edition, tmp_path):
    text = edition_workflow(edition).read_text()
    unpinned = tmp_path / "unpinned.yml"  # a tag instead of a commit: zizmor
    unpinned.write_text(re.sub(r"actions/checkout@\w+", "actions/checkout@v4", text))
    schema = tmp_path / "schema.yml"  # a job without runs-on: the schema
    schema.write_text(text.replace("    runs-on: ubuntu-24.04\n", "", 1))
    assert any(p.startswith("zizmor") for p in lint_workflow(unpinned))
    assert any(p.startswith("check-jsonschema") for p in lint_workflow(schema))


def workflow(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_the_edition_workflow_builds_and_deploys_the_book(edition):
    repository, _ = launch_config()
    flow = workflow(edition_workflow(edition))
    assert flow["on"]["push"]["branches"] == [repository["branch"]]
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    uses = {s["uses"].split("@")[0]: s for s in build["steps"] if "uses" in s}
    python = (edition.dest / "runtime.txt").read_text().strip().removeprefix("python-")
    assert uses["actions/setup-python"]["with"]["python-version"] == python
    runs = [s["run"] for s in build["steps"] if "run" in s]
    assert any("-r requirements-book.txt" in r for r in runs), runs
    assert any(r.startswith("jupyter-book build") and r.endswith(" .") for r in runs), runs
    assert (edition.dest / "web" / "package-lock.json").is_file(), "npm ci needs the lock"
    # jupyter-book build . writes ./_build/html: that is what goes to Pages
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


def test_the_course_workflow_runs_ci_run():
    flow = workflow(COURSE_WORKFLOW)
    assert {"push", "pull_request"} <= set(flow["on"])
    (job,) = flow["jobs"].values()
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs[-1] == "bash .ci/run", "the workflow must end by running .ci/run"
    assert all("apt-get" in r for r in runs[:-1]), "only machine setup may run before .ci/run"
    requires = re.search(r'requires-python = ">=(\d+\.\d+)', (ROOT / "pyproject.toml").read_text())
    assert job["container"]["image"].startswith(f"python:{requires[1]}-")


def test_the_edition_builds_with_its_workflow_steps(edition, tmp_path):
    """Run the workflow's build steps in a copy of the edition, as its runner would, with two
    changes so that nothing is fetched at test time: instead of installing, the install step's
    requirement files are checked against this environment (every pin the build uses is the
    version installed here), and npm installs from its cache (`make web` filled it). The rest
    runs as written, the book's build included; the site must hold every chapter and MathJax.
    The course's own build (`make book`, before the tests) leaves its jupyter-cache, which is
    copied in: a chapter whose code hashes as the course's is not executed a second time (82 of
    the test's 100 s), one whose code differs is executed here. The chapters read no file they
    did not write, so the folder they would run in makes no difference."""
    tree = tmp_path / "edition"
    shutil.copytree(edition.dest, tree)
    cache = ROOT / "_build" / ".jupyter_cache"  # the course's own build (`make book`) made it
    if cache.is_dir():  # a chapter whose code hashes the same is not executed a second time
        shutil.copytree(cache, tree / "_build" / ".jupyter_cache")
    build = workflow(edition_workflow(edition))["jobs"]["build"]
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    for step in (s for s in build["steps"] if "run" in s):
        command = step["run"]
        install = re.fullmatch(r"python -m pip install -r (\S+)", command)
        if install:
            assert_installed_here(tree / install[1])
            continue
        if command.startswith("npm ci"):
            command += " --offline"
        result = subprocess.run(
            command, shell=True, cwd=tree, env=env, capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, f"{step['name']}: {result.stderr[-3000:]}"
    site = tree / "_build" / "html"
    for chapter in (tree / "book").glob("*.ipynb"):
        page = site / chapter.relative_to(tree).with_suffix(".html")
        assert page.is_file(), f"the workflow's build has no {page.relative_to(site)}"
    assert (site / "_static" / "mathjax" / "tex-mml-chtml.js").is_file(), "MathJax not served"


# Pinned in the edition for the hub image, but not part of the course's own environment.
NOT_IN_THE_COURSE_ENVIRONMENT = {"nbgitpuller"}


def assert_installed_here(path: Path) -> None:
    """Every requirement of ``path`` (for this machine) is satisfied by what is installed."""
    wrong = []
    for req in requirements_in(path):
        if (req.marker and not req.marker.evaluate()) or req.name in NOT_IN_THE_COURSE_ENVIRONMENT:
            continue
        try:
            installed = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or not req.specifier.contains(installed, prereleases=True):
            wrong.append(f"{req} (installed: {installed})")
    assert not wrong, f"{path.name} asks for what this environment does not have: {wrong}"
