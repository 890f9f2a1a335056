"""`course publish DEST`: write the student edition, the public tree students and readers get.

The student edition holds the book sources (with a Jupyter notebook twin of every MyST chapter,
for Colab), the released assignments, the student library `fromscratch` (installable on its
own), and the environment files that Binder and a JupyterHub need. The book's repository and
launch buttons point at this tree's repository (`repository.url` in _config.yml).

The edition also carries a GitHub Actions workflow (.github/workflows/book.yml) that builds the
book and deploys it to GitHub Pages on every push to the branch _config.yml names. The repository,
its branch and the course's JupyterHub are set in one place, _config.yml; `course publish`
refuses to publish while they are still the template's example values (`example_values`),
unless it is told to (`allow_placeholders`, `--allow-placeholders`).

It is built from an ALLOW-list: only the paths named below are copied. Nothing private is:
no solutions/, no hidden tests, no grader internals (lib/coursekit, nbgrader_config.py), no
gradebook or submissions. A last step checks the written tree for private paths and for
nbgrader's solution and hidden-test markers, and fails if it finds any.

Publishing is a pipeline: an ordered list of small steps (`STEPS`), each writing one part.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import nbformat
import yaml

# Book sources copied as they are: the Jupyter Book config, the chapters, the local Sphinx
# extensions and templates, and the npm pins for the MathJax the site serves.
BOOK_FILES = (
    "_config.yml",
    "_toc.yml",
    "web/package.json",
    "web/package-lock.json",
    "web/.gitignore",
)
BOOK_DIRS = ("book", "_ext", "_templates", "_assets")
# The course hub's example configuration, the one tests/hub/ runs (JupyterHub with PAM log-in,
# LocalProcessSpawner and nbgrader's exchange), with the npm pins of its proxy: for whoever runs
# the course's JupyterHub. It holds no secrets (JupyterHub makes its own at start).
HUB_FILES = (
    "hub/jupyterhub_config.py",
    "hub/package.json",
    "hub/package-lock.json",
    "hub/.gitignore",
)
LIBRARY = "lib/fromscratch"
ASSIGNMENTS = "assignments"

# Never copied from anywhere, at any depth.
SKIPPED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", "_build", "node_modules"}

# Paths that must never appear in the student edition (checked after writing).
PRIVATE_NAMES = {
    "solutions",
    "coursekit",
    "submitted",
    "autograded",
    "feedback",
    "exports",
    "reports",
    "gradebook.db",
    "nbgrader_config.py",
}
# nbgrader's markers; a released notebook has none left (its release step removes them).
PRIVATE_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# The environment Binder builds and a JupyterHub image installs. Versions come from
# requirements.lock where the lock has the package; the rest are pinned here.
REQUIREMENTS = (
    "torch",
    "numpy",
    "matplotlib",
    "scikit-learn",
    "jupyterlab",
    "ipykernel",
    "jupytext",
    "nbgrader",
    "nbgitpuller",
)
PINNED_OUTSIDE_LOCK = {"nbgitpuller": "1.3.0"}
PYTHON_VERSION = "3.11"
# torch comes from PyTorch's CPU wheel index: its CPU build (version label +cpu) is a few hundred
# MB where the default Linux wheel pulls in CUDA libraries of several GB, more than a free
# Binder pod holds. PyPI has no +cpu version, so only this index can satisfy the pin. macOS has
# no +cpu wheels (its default wheel has no CUDA), so there the plain version is pinned.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_CPU_PLATFORMS = ("linux", "win32")

# What the book's own build needs beyond requirements.txt (requirements-book.txt; the CI
# workflow installs it). Versions come from requirements.lock.
BOOK_REQUIREMENTS = (
    "jupyter-book",
    "sphinx",
    "sphinx-book-theme",
    "pydata-sphinx-theme",
    "myst-nb",
    "myst-parser",
    "sphinxcontrib-bibtex",
    "docutils",
)
NODE_VERSION = "24"
WORKFLOW = ".github/workflows/book.yml"
# The actions the workflow uses, pinned to the commit of a release tag (a tag can be moved; a
# commit cannot). To update one, take the commit of its new tag from the action's repository.
ACTIONS = {
    "checkout": "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1  # v7.0.1",
    "setup-python": "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97  # v7.0.0",
    "setup-node": "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020  # v7.0.0",
    "upload-pages-artifact": (
        "actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9  # v5.0.0"
    ),
    "deploy-pages": "actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128  # v5.0.0",
}
# The book's build, step by step: the CI workflow runs these, and the edition's README shows
# them (one list, so the two cannot drift apart). Each is (name, shell command).
BUILD_STEPS: tuple[tuple[str, str], ...] = (
    ("Install the environment", "python -m pip install -r requirements-book.txt"),
    ("Install MathJax (served with the book)", "npm ci --prefix web --no-audit --no-fund"),
    (
        "Copy MathJax where Sphinx serves it",
        "mkdir -p web/static && cp -R web/node_modules/mathjax/es5 web/static/mathjax",
    ),
    ("Build the book, executing every chapter", "jupyter-book build --all -W --keep-going ."),
)
BUILT_SITE = "_build/html"

# The template's EXAMPLE VALUES, defined here and nowhere else. A setting is an example value
# when it is what the course template ships in _config.yml (TEMPLATE_VALUES), or a URL on a host
# reserved for documentation (RFC 2606 and RFC 6761: example.com/.net/.org and their
# subdomains, and the .example, .test, .invalid and .localhost domains), which can never be a
# real repository or hub. `course publish` refuses to publish launch links to them.
TEMPLATE_VALUES = {
    "repository.url": "https://github.com/pytorch-from-scratch/course",
    "launch_buttons.jupyterhub_url": "https://jupyterhub.example.org",
}
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
EXAMPLE_TLDS = ("example", "test", "invalid", "localhost")
# The settings checked: where launch links and the repository button point.
LAUNCH_SETTINGS = (
    "repository.url",
    "launch_buttons.binderhub_url",
    "launch_buttons.jupyterhub_url",
    "launch_buttons.colab_url",
)

# Left in place when DEST is cleared (a checkout of the student edition's repository).
KEPT_IN_DEST = {".git"}
MARKER = ".course-publish"


class PublishError(ValueError):
    """The student edition could not be written; the message says why and what to do."""


@dataclass
class Edition:
    """What one publish wrote, for the summary and for the tests."""

    source: Path
    dest: Path
    repository_url: str
    chapters: list[str] = field(default_factory=list)
    twins: list[str] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)
    library_modules: list[str] = field(default_factory=list)
    branch: str = "main"
    placeholders: list[str] = field(default_factory=list)  # example values kept (allowed)

    def summary(self) -> str:
        files = sum(1 for p in self.dest.rglob("*") if p.is_file() and ".git" not in p.parts)
        lines = [
            f"Wrote the student edition to {self.dest} ({files} files).",
            f"  book: {len(self.chapters)} pages, {len(self.twins)} notebook twins",
            f"  assignments: {', '.join(self.assignments) or 'none released yet'}",
            f"  library: fromscratch ({len(self.library_modules)} modules)",
            f"  repository (launch buttons point here): {self.repository_url} ({self.branch})",
            f"  workflow: {WORKFLOW} deploys the book to GitHub Pages on push to {self.branch}",
        ]
        if self.placeholders:
            lines.append(
                "  WARNING: example values kept (--allow-placeholders), so the launch links "
                "lead nowhere: " + "; ".join(self.placeholders)
            )
        return "\n".join(lines)


# --- Finding the course and preparing DEST ---------------------------------------------------


def find_course_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding _toc.yml and the student library."""
    for folder in [start, *start.parents]:
        if (folder / "_toc.yml").is_file() and (folder / LIBRARY).is_dir():
            return folder
    raise PublishError(
        f"no course repository (a folder with _toc.yml and {LIBRARY}/) at or above {start}; "
        "run `course publish` inside the course repository or pass --source"
    )


def prepare_dest(dest: Path, source: Path) -> None:
    """Make ``dest`` an empty folder, keeping .git; refuse folders that are not ours to clear."""
    dest, source = dest.resolve(), source.resolve()
    if dest == source or dest in source.parents:
        raise PublishError(f"DEST {dest} is the course repository or contains it; choose another")
    for name in (*BOOK_DIRS, LIBRARY, ASSIGNMENTS):
        if dest == source / name or (source / name) in dest.parents:
            raise PublishError(f"DEST {dest} is inside {name}/, which is published; choose another")
    if dest.exists() and not dest.is_dir():
        raise PublishError(f"DEST {dest} is a file; give a folder")
    if dest.is_dir():
        entries = {p.name for p in dest.iterdir()}
        if entries - KEPT_IN_DEST and MARKER not in entries:
            raise PublishError(
                f"DEST {dest} is not empty and was not written by `course publish`; "
                "give an empty folder, a new one, or a checkout of the student edition"
            )
        for path in dest.iterdir():
            if path.name in KEPT_IN_DEST:
                continue
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def _files(folder: Path) -> Iterator[Path]:
    """Files under ``folder``, skipping editor, cache and build folders."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part in SKIPPED_NAMES for part in rel.parts):
            yield path


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _config(source: Path) -> dict:
    return yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8")) or {}


def repository_url(source: Path) -> str:
    """The student edition's repository, from ``repository.url`` in _config.yml."""
    url = (_config(source).get("repository") or {}).get("url", "")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url or "") or url.endswith(".git"):
        raise PublishError(
            "repository.url in _config.yml must be the student edition's GitHub repository "
            f"(https://github.com/ORG/REPO, without .git), got {url!r}"
        )
    return url


def repository_branch(source: Path) -> str:
    """The branch launch links open and the workflow deploys, ``repository.branch``."""
    branch = str((_config(source).get("repository") or {}).get("branch", "main") or "main")
    if not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", branch):
        raise PublishError(f"repository.branch in _config.yml is not a branch name: {branch!r}")
    return branch


def _setting(config: dict, dotted: str) -> str:
    section, _, key = dotted.partition(".")
    return str((config.get(section) or {}).get(key) or "")


def is_example_url(url: str) -> bool:
    """True if ``url``'s host is reserved for examples (RFC 2606, RFC 6761)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS) or any(
        host == tld or host.endswith("." + tld) for tld in EXAMPLE_TLDS
    )


def example_values(config: dict) -> list[str]:
    """``["key = value", ...]`` for each launch setting of ``config`` that is an example value."""
    found = []
    for key in LAUNCH_SETTINGS:
        value = _setting(config, key)
        if not value:
            continue
        template = TEMPLATE_VALUES.get(key, "")
        if value.rstrip("/").lower() == template.lower() or is_example_url(value):
            found.append(f"{key} = {value}")
    return found


# --- The steps -------------------------------------------------------------------------------


def copy_book_sources(edition: Edition) -> None:
    """The Jupyter Book config, table of contents, chapters, extensions and asset pins."""
    source, dest = edition.source, edition.dest
    for name in BOOK_FILES:
        if (source / name).is_file():
            _copy(source / name, dest / name)
    for folder in BOOK_DIRS:
        if not (source / folder).is_dir():
            continue
        for path in _files(source / folder):
            rel = path.relative_to(source)
            if path.suffix == ".ipynb" and is_myst_notebook(path.with_suffix(".md")):
                continue  # a stale twin: twins are written fresh below
            _copy(path, dest / rel)
            if rel.parts[0] == "book" and path.suffix in (".md", ".ipynb"):
                edition.chapters.append(rel.as_posix())


def is_myst_notebook(path: Path) -> bool:
    """True if ``path`` is a Markdown file whose front matter makes it a notebook."""
    if path.suffix != ".md" or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not match:
        return False
    front = yaml.safe_load(match.group(1)) or {}
    return isinstance(front, dict) and ("kernelspec" in front or "jupytext" in front)


def setup_cell(repository: str) -> nbformat.NotebookNode:
    """A first cell that installs the course library where it is missing (Colab, a new hub)."""
    source = (
        "# On Colab or any machine without the course library, install it from the course\n"
        "# repository first. Where it is installed already (Binder, the course hub), this does\n"
        "# nothing.\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("fromscratch") is None:\n'
        f'    %pip install --quiet "fromscratch @ git+{repository}"'
    )
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["setup"]})


def write_notebook_twins(edition: Edition) -> None:
    """Write ``X.ipynb`` next to every MyST chapter ``X.md`` (jupytext; no outputs)."""
    for path in sorted((edition.dest / "book").rglob("*.md")):
        if not is_myst_notebook(path):
            continue
        notebook = jupytext.read(path, fmt="md:myst")
        # The setup cell goes right after the title (the first cell, when it is Markdown).
        first_is_title = bool(notebook.cells) and notebook.cells[0].cell_type == "markdown"
        notebook.cells.insert(1 if first_is_title else 0, setup_cell(edition.repository_url))
        for index, cell in enumerate(notebook.cells):
            cell.id = f"cell-{index:03d}"  # stable ids: publishing twice gives the same files
        notebook.metadata.pop("jupytext", None)  # a plain notebook, not paired to the .md
        twin = path.with_suffix(".ipynb")
        jupytext.write(notebook, twin, fmt="ipynb")
        edition.twins.append(twin.relative_to(edition.dest).as_posix())


def copy_released_assignments(edition: Edition) -> None:
    """assignments/<id>/: what nbgrader released (solutions and hidden tests removed)."""
    released = edition.source / ASSIGNMENTS
    if not released.is_dir():
        return
    for folder in sorted(p for p in released.iterdir() if p.is_dir()):
        if folder.name in SKIPPED_NAMES:
            continue
        files = list(_files(folder))
        for path in files:
            _copy(path, edition.dest / path.relative_to(edition.source))
        if files:
            edition.assignments.append(folder.name)


def copy_student_library(edition: Edition) -> None:
    """lib/fromscratch/, the library every chapter imports."""
    for path in _files(edition.source / LIBRARY):
        if path.suffix in (".pyc", ".pyo"):
            continue
        _copy(path, edition.dest / path.relative_to(edition.source))
        if path.suffix == ".py" and path.name != "__init__.py":
            edition.library_modules.append(path.stem)


def copy_hub_example(edition: Edition) -> None:
    """hub/: the example JupyterHub configuration and its proxy's npm pins."""
    for name in HUB_FILES:
        if (edition.source / name).is_file():
            _copy(edition.source / name, edition.dest / name)


def library_version(source: Path) -> str:
    init = (source / LIBRARY / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", init, re.M)
    return match.group(1) if match else "0.0.0"


def write_pyproject(edition: Edition) -> None:
    """A minimal pyproject so that `pip install .` (or git+URL) installs fromscratch alone."""
    text = f'''# Written by `course publish`: the student library, installable on its own.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "fromscratch"
version = "{library_version(edition.source)}"
description = "The reference implementations that the PyTorch from scratch chapters import."
requires-python = ">=3.10"
dependencies = ["torch", "numpy", "matplotlib", "scikit-learn"]

[tool.setuptools.packages.find]
where = ["lib"]
include = ["fromscratch*"]
'''
    (edition.dest / "pyproject.toml").write_text(text, encoding="utf-8")


def read_lock(source: Path) -> dict[str, str]:
    """``{normalised name: version}`` from requirements.lock (empty if there is none)."""
    lock = source / "requirements.lock"
    pins: dict[str, str] = {}
    if lock.is_file():
        for line in lock.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
            if match:
                pins[_normalise(match.group(1))] = match.group(2)
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pin(name: str, pins: dict[str, str]) -> str:
    version = pins.get(_normalise(name)) or PINNED_OUTSIDE_LOCK.get(name)
    if version is None:
        raise PublishError(
            f"{name} is pinned neither in requirements.lock nor in coursekit.publish; "
            "add it to the lock"
        )
    return version


def torch_lines(version: str) -> list[str]:
    """The CPU build of torch ``version``: ``+cpu`` from the CPU index, plain on macOS."""
    base = version.split("+")[0]
    cpu = " or ".join(f'sys_platform == "{p}"' for p in TORCH_CPU_PLATFORMS)
    other = " and ".join(f'sys_platform != "{p}"' for p in TORCH_CPU_PLATFORMS)
    return [f"torch=={base}+cpu; {cpu}", f"torch=={base}; {other}"]


def requirement_lines(source: Path) -> list[str]:
    pins = read_lock(source)
    lines = []
    for name in REQUIREMENTS:
        version = _pin(name, pins)
        lines += torch_lines(version) if name == "torch" else [f"{name}=={version}"]
    return lines


def write_environment(edition: Edition) -> None:
    """requirements.txt and runtime.txt for Binder (repo2docker) and a JupyterHub image, and
    requirements-book.txt for building the book (the CI workflow)."""
    lines = [
        "# Written by `course publish`: the environment for Binder and for the course JupyterHub",
        "# image. Versions match the course's lock file; torch is the CPU build, from PyTorch's",
        "# CPU wheel index (small enough for a free Binder pod). The last line installs the",
        "# course library from this repository.",
        f"--extra-index-url {TORCH_CPU_INDEX}",
        *requirement_lines(edition.source),
        "-e .",
    ]
    (edition.dest / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (edition.dest / "runtime.txt").write_text(f"python-{PYTHON_VERSION}\n", encoding="utf-8")
    pins = read_lock(edition.source)
    book = [
        "# Written by `course publish`: what building the book needs (the CI workflow installs",
        "# it): the environment, and Jupyter Book at the course's versions.",
        "-r requirements.txt",
        *(f"{name}=={_pin(name, pins)}" for name in BOOK_REQUIREMENTS),
    ]
    (edition.dest / "requirements-book.txt").write_text("\n".join(book) + "\n", encoding="utf-8")


def workflow_text(branch: str) -> str:
    """The GitHub Actions workflow: build the book on every push to ``branch``, deploy it to
    GitHub Pages (the repository's Settings > Pages > Source must be "GitHub Actions")."""
    steps = "".join(
        f"      - name: {name}\n        run: {command}\n" for name, command in BUILD_STEPS
    )
    return f"""# Written by `course publish`: build the book and deploy it to GitHub Pages on every
# push to {branch}. In the repository's Settings > Pages, set Source to "GitHub Actions".
name: book

on:
  push:
    branches: [{branch}]
  workflow_dispatch:

permissions: {{}}

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    name: Build the book
    runs-on: ubuntu-24.04
    timeout-minutes: 60
    permissions:
      contents: read  # to check out the repository
    steps:
      - uses: {ACTIONS["checkout"]}
        with:
          persist-credentials: false
      - uses: {ACTIONS["setup-python"]}
        with:
          python-version: "{PYTHON_VERSION}"
      - uses: {ACTIONS["setup-node"]}
        with:
          node-version: "{NODE_VERSION}"
          package-manager-cache: false
{steps}      - uses: {ACTIONS["upload-pages-artifact"]}
        with:
          path: {BUILT_SITE}

  deploy:
    name: Deploy it to GitHub Pages
    needs: build
    runs-on: ubuntu-24.04
    permissions:
      pages: write  # to deploy to GitHub Pages
      id-token: write  # to prove to GitHub Pages that the deployment comes from this workflow
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: {ACTIONS["deploy-pages"]}
"""


def write_workflow(edition: Edition) -> None:
    """.github/workflows/book.yml: the book, built and deployed to GitHub Pages on push."""
    path = edition.dest / WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow_text(edition.branch), encoding="utf-8")


def write_readme(edition: Edition) -> None:
    title = _config(edition.source).get("title", "The course")
    steps = "\n".join(f"    {command}" for _, command in BUILD_STEPS)
    text = f"""# {title}: student edition

Written by `course publish` from the course repository; do not edit it by hand.

- `book/`: the chapters, as MyST Markdown notebooks (`.md`) and as Jupyter notebooks
  (`.ipynb`, generated, for Colab and JupyterLab).
- `assignments/`: the problem sets. Open a notebook, write your answer in the cells marked
  `YOUR CODE HERE`, run all cells, and press Validate.
- `lib/fromscratch/`: the course library that the chapters import. `pip install -e .`
  installs it.
- `requirements.txt`, `runtime.txt`: the environment (Binder builds it; a JupyterHub image
  installs it, together with nbgitpuller). torch is the CPU build, from PyTorch's CPU index.
- `hub/jupyterhub_config.py`: an example configuration of the course's JupyterHub (log-in
  with the machine's accounts, each person's JupyterLab running as their own user, nbgrader's
  exchange for fetching and submitting problem sets and for feedback); its docstring says how
  to set it up. `npm ci --prefix hub` installs its proxy, configurable-http-proxy.
- `{WORKFLOW}`: builds the book and deploys it to GitHub Pages on every push to
  `{edition.branch}` (set Settings > Pages > Source to "GitHub Actions").

To build the book here (MathJax is served with the site, from npm), run what the workflow runs:

{steps}
"""
    (edition.dest / "README.md").write_text(text, encoding="utf-8")
    (edition.dest / ".gitignore").write_text(
        "_build/\n.ipynb_checkpoints/\n__pycache__/\n*.egg-info/\n", encoding="utf-8"
    )


def write_marker(edition: Edition) -> None:
    """Record that `course publish` wrote DEST (so a later publish may clear it)."""
    commit = ""
    try:
        commit = subprocess.run(
            ["git", "-C", str(edition.source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    note = "Written by `course publish`"
    (edition.dest / MARKER).write_text(
        f"{note} from commit {commit}.\n" if commit else f"{note}.\n", encoding="utf-8"
    )


def check_nothing_private(edition: Edition) -> None:
    """Fail if a private path or an nbgrader solution/hidden-test marker reached DEST."""
    problems = []
    for path in _files(edition.dest):
        rel = path.relative_to(edition.dest)
        if ".git" in rel.parts:
            continue
        if any(part in PRIVATE_NAMES for part in rel.parts):
            problems.append(f"{rel}: a private path")
            continue
        if path.suffix in (".ipynb", ".py", ".md", ".txt"):
            text = path.read_text(encoding="utf-8", errors="replace")
            problems += [f"{rel}: contains {m!r}" for m in PRIVATE_MARKERS if m in text]
    if problems:
        raise PublishError(
            "the student edition would leak private material ("
            + "; ".join(problems[:5])
            + "); nothing private may be published, so fix the source and publish again"
        )


Step = Callable[[Edition], None]

# The pipeline, in order. Each step writes one part of the student edition.
STEPS: tuple[Step, ...] = (
    copy_book_sources,
    write_notebook_twins,
    copy_released_assignments,
    copy_student_library,
    copy_hub_example,
    write_pyproject,
    write_environment,
    write_workflow,
    write_readme,
    write_marker,
    check_nothing_private,
)


def check_launch_settings(source: Path, allow_placeholders: bool = False) -> list[str]:
    """The example values among _config.yml's launch settings; refuse them unless allowed."""
    found = example_values(_config(source))
    if found and not allow_placeholders:
        raise PublishError(
            "_config.yml still has the template's example values ("
            + "; ".join(found)
            + "): set them to the student edition's GitHub repository and your JupyterHub "
            "(or remove jupyterhub_url), or pass --allow-placeholders for a preview"
        )
    return found


def publish(dest: Path, source: Path | None = None, allow_placeholders: bool = False) -> Edition:
    """Write the student edition of the course at ``source`` (default: found from cwd) to DEST.

    Refuses while _config.yml's repository or hub are example values (`example_values`),
    unless ``allow_placeholders``; nothing is written then."""
    source = find_course_root(Path.cwd()) if source is None else source.resolve()
    if not (source / "_toc.yml").is_file() or not (source / LIBRARY).is_dir():
        raise PublishError(f"{source} is not a course repository (no _toc.yml or {LIBRARY}/)")
    url, branch = repository_url(source), repository_branch(source)
    placeholders = check_launch_settings(source, allow_placeholders)
    edition = Edition(source, dest.resolve(), url, branch=branch, placeholders=placeholders)
    prepare_dest(edition.dest, source)
    for step in STEPS:
        step(edition)
    return edition
