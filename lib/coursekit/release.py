"""`course release [ID ...]`: regenerate assignments/ from solutions/ with nbgrader.

For each assignment id (every folder of the source directory when none is given) this runs
nbgrader's own ``GenerateAssignment`` converter, as ``nbgrader generate_assignment ID --force``
would: it writes the student version into the release directory (``assignments/ID/``) and
records the master copy of the cells in the gradebook, which autograding needs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SUMMARY = "regenerate assignments/ from solutions/ (nbgrader generate_assignment)"


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
    for assignment_id in release(root, args.ids):
        print(f"released {assignment_id} (student version in assignments/{assignment_id}/)")
    return 0
