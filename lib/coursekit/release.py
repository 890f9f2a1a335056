"""`course release [ID ...]`: regenerate assignments/ from solutions/ with nbgrader.

For each assignment id (every folder of the source directory when none is given) this runs
nbgrader's own ``GenerateAssignment`` converter, as ``nbgrader generate_assignment ID --force``
would: it writes the student version into the release directory (``assignments/ID/``) and
records the master copy of the cells in the gradebook, which autograding needs.

Before that, the command refreshes each source notebook's first code cell, the locked
``colab_setup`` cell: where ``fromscratch`` is missing (a notebook opened on Colab from the
book's link) it pip-installs the library from the student edition's repository, the
``repository.url`` of the course's ``_config.yml``; elsewhere it does nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SUMMARY = "regenerate assignments/ from solutions/ (nbgrader generate_assignment)"
SETUP_ID = "colab_setup"
SETUP_METADATA = {
    "deletable": False,
    "editable": False,
    "nbgrader": {
        "grade": False,
        "grade_id": SETUP_ID,
        "locked": True,
        "schema_version": 3,
        "solution": False,
        "task": False,
    },
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n", 1)[1].replace("\n", " ")
    parser.add_argument(
        "ids",
        metavar="ID",
        nargs="*",
        help="assignment ids, e.g. ps1_power_method (default: every folder in solutions/)",
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course folder, holding nbgrader_config.py (default: found from here upwards)",
    )


def setup_source(root: Path) -> str | None:
    """The source of the setup cell for the course at ``root`` (None: no repository.url)."""
    import yaml

    config = root / "_config.yml"
    if not config.exists():
        return None
    section = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("repository") or {}
    url = str(section.get("url", "")).strip()
    if not url:
        return None
    install = f'[sys.executable, "-m", "pip", "install", "--quiet", "git+{url}"]'
    return (
        "# Setup: the course library `fromscratch` (the last cell's check() needs it) is there in\n"
        "# JupyterLab, on the course's hub and in grading; on Colab this installs it "
        "from the course\n"
        "# repository first.\n"
        "try:\n"
        "    import fromscratch  # noqa: F401\n"
        "except ModuleNotFoundError:\n"
        "    import subprocess\n"
        "    import sys\n"
        "\n"
        f"    subprocess.run({install}, check=True)"
    )


def refresh_setup_cells(root: Path, ids: list[str] | None = None) -> list[str]:
    """Make the first code cell of each source notebook the setup cell (every assignment when
    ``ids`` is empty); return the ids whose notebook changed."""
    import nbformat
    from nbgrader.apps import GenerateAssignmentApp

    from coursekit.batch.course import load_app, source_assignments

    source = setup_source(root)
    if source is None:
        return []
    directory = load_app(GenerateAssignmentApp, root).coursedir.source_directory
    changed = []
    for assignment_id in ids or source_assignments(root, directory):
        for path in sorted((root / directory / assignment_id).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
            if code:
                first = nb.cells[code[0]]
                meta = first.get("metadata", {}).get("nbgrader", {})
                if first.source == source and meta == SETUP_METADATA["nbgrader"]:
                    continue  # already the setup cell
            nb.cells = [
                c
                for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != SETUP_ID
            ]
            at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
            cell = nbformat.v4.new_code_cell(source, metadata=SETUP_METADATA)
            cell.id = "colab-setup"
            nb.cells.insert(at, cell)
            nbformat.write(nb, path)
            changed.append(assignment_id)
    return changed


def release(
    root: Path, ids: list[str] | None = None, release_directory: Path | None = None
) -> list[str]:
    """Generate the release of each assignment; return the ids released.

    ``release_directory`` writes the student versions elsewhere than the course's
    ``assignments/`` (``course grade`` uses it to record a missing master copy only).
    """
    from nbgrader.apps import GenerateAssignmentApp
    from nbgrader.converters import GenerateAssignment
    from nbgrader.utils import capture_log

    from coursekit.batch.course import CourseError, last_error, load_app, source_assignments

    app = load_app(GenerateAssignmentApp, root)
    coursedir = app.coursedir
    if release_directory is not None:
        coursedir.release_directory = str(release_directory)
    known = source_assignments(root, coursedir.source_directory)
    chosen = list(ids) if ids else known
    if not chosen:
        raise CourseError(f"There is nothing to release: {coursedir.source_directory}/ is empty.")
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise CourseError(
            f"No {coursedir.source_directory}/{unknown[0]}/ with a notebook; "
            f"the assignments are: {', '.join(known) or 'none'}."
        )
    for assignment_id in chosen:
        coursedir.assignment_id = assignment_id
        converter = GenerateAssignment(coursedir=coursedir, parent=app)
        converter.force = True
        converter.create_assignment = True
        outcome = capture_log(converter)
        if not outcome["success"]:
            detail = last_error(outcome.get("log", "") + "\n" + outcome.get("error", ""))
            raise CourseError(f"nbgrader could not release {assignment_id}: {detail}")
    return chosen


def run(args: argparse.Namespace) -> int:
    from coursekit.batch.course import put_tools_on_path

    put_tools_on_path()  # before nbgrader is imported
    from coursekit.batch.course import find_root

    root = find_root(args.course)
    for assignment_id in refresh_setup_cells(root, args.ids):
        print(f"refreshed the setup cell of solutions/{assignment_id}/")
    for assignment_id in release(root, args.ids):
        print(f"released {assignment_id} (student version in assignments/{assignment_id}/)")
    return 0
