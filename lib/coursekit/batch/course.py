"""Finding the course and loading nbgrader the way its own command line does.

``course release``, ``collect`` and ``grade`` run nbgrader's apps and converters in-process. They
load configuration exactly like ``nbgrader <app>`` started in the course folder: the Jupyter
config path, then ``nbgrader_config.py`` in the course root.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONFIG_NAME = "nbgrader_config.py"


class CourseError(ValueError):
    """A problem the instructor can fix; the message is one sentence."""


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder at or above ``start`` holding nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    if start is not None and not here.is_dir():
        raise CourseError(f"{start} is not a folder.")
    for folder in [here, *here.parents]:
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CourseError(
        f"No {CONFIG_NAME} in {here} or above it: run this inside the course, or pass --course DIR."
    )


@contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def load_app(  # noqa: ANN201
    app_class: type, root: Path, argv: list[str] | None = None, level: int = logging.WARNING
):
    """An initialized nbgrader app of ``app_class`` for the course at ``root``, logging nowhere.

    Its log still reaches the handlers that ``nbgrader.utils.capture_log`` adds, at ``level``.
    """
    put_tools_on_path()
    with working_directory(root):
        app = app_class()
        app.initialize(list(argv or []))
    app.log.setLevel(level)
    for handler in list(app.log.handlers):
        app.log.removeHandler(handler)  # capture_log collects what we report
    app.log.addHandler(logging.NullHandler())
    app.log.propagate = False
    return app


def source_assignments(root: Path, source_directory: str) -> list[str]:
    """Assignment ids with a folder (holding a notebook) in the source directory."""
    source = root / source_directory
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


GENERIC = ("There was an error processing", "Please see the", "see the error log")
EXCEPTION_LINE = re.compile(r"^\s*([A-Za-z_.]*(?:Error|Exception|Exit)): (.+)$")


def last_error(log: str) -> str:
    """The most telling line of a captured nbgrader log, for a one-sentence message."""
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        match = EXCEPTION_LINE.match(line)
        if match and not match.group(1).endswith(("NbGraderException", "SystemExit")):
            return f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2).strip()}"
    for line in reversed(lines):
        if line.startswith("[ERROR]") and not any(g in line for g in GENERIC):
            return line.removeprefix("[ERROR]").strip().rstrip(".")
    return "no details (see the log)"


def skip_unused_imports() -> None:
    """Keep jsonschema from building 39 IRI parsers (1-3 s) when nbformat is first imported.

    jsonschema registers its "iri" format checkers only if ``rfc3987_syntax`` imports, and
    compiles that package's grammars at import time. nbformat validates with fastjsonschema and
    its schema has no IRI formats, so nothing nbgrader does needs them. Call before nbgrader is
    imported; it changes nothing if jsonschema is loaded already.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None: "import rfc3987_syntax" fails


def put_tools_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: find ours. (This runs
    before nbgrader is imported, so it also skips the unused imports.)"""
    skip_unused_imports()
    tools = str(Path(sys.executable).parent)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
