"""`course collect ID ARCHIVE`: import an LMS download into submitted/<student>/ID/.

(`course collect ID --exchange` collects from nbgrader's exchange instead, on a JupyterHub where
students submit with the Assignment List: ``coursekit.exchange``.)

This is nbgrader's own ``zip_collect`` machinery (``ZipCollectApp``: its extractor unpacks the
archive into ``downloaded/ID/extracted/``, its ``FileNameCollectorPlugin`` reads the student id
and the file name from each path, and it copies the notebooks into ``submitted/``) with the
file-name patterns of the two common LMSs filled in:

* **Canvas** names each file ``<name>_[late_]<user id>_<file id>_<file name>``, adding
  ``-1``, ``-2``... to the file name of a resubmission (canvas-lms ``ContentZipper``: the name is
  the student's sortable name, "Lovelace, Ada", lower-cased with everything but letters, digits
  and ``_`` dropped: ``lovelaceada``): the student id is that name. The Canvas user id goes into
  nbgrader's gradebook as the student's ``lms_user_id``, for the Canvas gradebook file that
  ``course grade`` writes (``coursekit.canvas``). Two Canvas users with the same name would
  become one student: the import stops instead and says so.
* **Moodle** puts each student's files in a folder
  ``<Full Name>_<participant id>_assignsubmission_file_`` (or prefixes the file name with
  it): the student id is the participant id.

``--lms auto`` (the default) picks the pattern that matches more of the archive's notebooks;
``--regexp`` takes any pattern with ``student_id`` and ``file_id`` groups, matched against each
extracted file's full path, as nbgrader's ``FileNameCollectorPlugin.named_regexp``; a
``canvas_user_id`` group in it is recorded like Canvas's.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import zipfile
from pathlib import Path

SUMMARY = (
    "import an LMS download (Canvas or Moodle zip), or with --exchange the submissions on "
    "the hub, into submitted/<student>/ID/"
)

PATTERNS = {
    "canvas": (
        r".*/(?P<student_id>[^/]+?)_(?:late_)?(?P<canvas_user_id>\d+)_\d+_"
        r"(?P<file_id>[^/]+?)(?:-\d+)?\.ipynb$"
    ),
    "moodle": r".*/[^/]*?_(?P<student_id>\d+)_assignsubmission_file_/?(?P<file_id>[^/]+?)\.ipynb$",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n", 1)[0].split(": ", 1)[1] + (
        " Uses nbgrader's zip_collect; the student id comes from each file's name. With "
        "--exchange instead of ARCHIVE: nbgrader's collect, from the exchange of a JupyterHub "
        "where students submit with the Assignment List (Exchange.root and "
        "CourseDirectory.course_id come from the nbgrader configuration)."
    )
    parser.add_argument("assignment_id", metavar="ID", help="the assignment, e.g. ps1_power_method")
    parser.add_argument(
        "archive",
        metavar="ARCHIVE",
        type=Path,
        nargs="?",
        default=None,
        help="the zip file the LMS gave you (leave it out with --exchange)",
    )
    parser.add_argument(
        "--exchange",
        action="store_true",
        help="collect the newest submission of each student from nbgrader's exchange "
        "(nbgrader collect) instead of an LMS archive",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="with --exchange: replace submissions collected before by newer ones "
        "(nbgrader collect --update)",
    )
    parser.add_argument(
        "--student",
        default=None,
        metavar="NAME",
        help="with --exchange: collect this student's submission only",
    )
    parser.add_argument(
        "--lms",
        choices=("auto", *PATTERNS),
        default="auto",
        help="how the LMS names files (default: auto, whichever matches more notebooks)",
    )
    parser.add_argument(
        "--regexp",
        default=None,
        help="your own pattern with (?P<student_id>...) and (?P<file_id>...) groups, "
        "matched against each extracted file's path (overrides --lms)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace files already collected for a student (nbgrader zip_collect --force)",
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course folder, holding nbgrader_config.py (default: found from here upwards)",
    )


def choose_pattern(archive: Path, lms: str) -> str:
    """The named regexp for ``lms`` ("auto": the one matching most notebooks in the zip)."""
    if lms != "auto":
        return PATTERNS[lms]
    names = ["/extracted/" + n for n in zipfile.ZipFile(archive).namelist() if n.endswith(".ipynb")]
    scores = {k: sum(bool(re.match(p, n)) for n in names) for k, p in PATTERNS.items()}
    best = max(scores, key=scores.get)
    if scores[best] == 0:
        from coursekit.batch.course import CourseError

        raise CourseError(
            f"No notebook in {archive.name} is named the Canvas or Moodle way; "
            "pass --regexp with (?P<student_id>...) and (?P<file_id>...) groups."
        )
    return PATTERNS[best]


def canvas_user_ids(archive: Path, pattern: str) -> dict[str, str]:
    """``{student id: Canvas user id}`` read from the archive's file names by ``pattern``'s
    ``canvas_user_id`` group (none: an empty dict), matched as ``choose_pattern`` does.

    Two different Canvas users that the pattern turns into one student id stop the import.
    """
    from coursekit.batch.course import CourseError

    regexp = re.compile(pattern)
    if "canvas_user_id" not in regexp.groupindex:
        return {}
    ids: dict[str, str] = {}
    for name in zipfile.ZipFile(archive).namelist():
        match = regexp.match("/extracted/" + name)
        if match is None:
            continue
        student, user = match["student_id"], match["canvas_user_id"]
        if ids.setdefault(student, user) != user:
            raise CourseError(
                f"Canvas users {ids[student]} and {user} in {archive.name} both become student "
                f"{student!r} (Canvas names files by the student's name); pass --regexp with "
                r"(?P<student_id>\d+) on the user id to keep them apart."
            )
    return ids


def collect(
    root: Path, assignment_id: str, archive: Path, pattern: str, force: bool = False
) -> tuple[list[str], int]:
    """Import ``archive`` with nbgrader's ZipCollectApp; return the students now holding files
    and how many Canvas user ids were recorded in the gradebook (``canvas_user_ids``)."""
    from nbgrader.apps import ZipCollectApp
    from nbgrader.utils import capture_log

    from coursekit.batch import gradebook
    from coursekit.batch.course import CourseError, last_error, load_app

    try:
        re.compile(pattern)
    except re.error as error:
        raise CourseError(f"The --regexp pattern is not a regular expression: {error}.") from None
    if "student_id" not in pattern or "file_id" not in pattern:
        raise CourseError("The pattern needs (?P<student_id>...) and (?P<file_id>...) groups.")
    ids = canvas_user_ids(archive, pattern)  # before anything is copied
    argv = [assignment_id, f"--FileNameCollectorPlugin.named_regexp={pattern}"]
    if force:
        argv.append("--force")
    app = load_app(ZipCollectApp, root, argv, level=logging.INFO)
    downloaded = root / app.downloaded_directory / assignment_id
    folder = downloaded / app.archive_directory
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(downloaded / app.extracted_directory, ignore_errors=True)  # ours to redo
    folder.mkdir(parents=True)
    shutil.copy(archive, folder / archive.name)
    outcome = capture_log(app)
    log = outcome.get("log", "")
    if not outcome["success"]:
        detail = last_error(log + "\n" + outcome.get("error", ""))
        if "Directory not empty" in detail:
            detail += " (pass --force to replace what was collected before)"
        raise CourseError(f"nbgrader could not collect {archive.name}: {detail}.")
    counted = re.search(r"(\d+) files collected", log)
    if counted is None or int(counted.group(1)) == 0:
        raise CourseError(f"No notebook in {archive.name} matched the file-name pattern.")
    submitted = Path(app.coursedir.format_path(app.coursedir.submitted_directory, ".", "."))
    copied = re.findall(r"Copying to: (.+)", log)
    students = sorted({Path(p).relative_to(submitted.resolve()).parts[0] for p in copied})
    recorded = {s: ids[s] for s in students if s in ids}
    if recorded:
        gradebook.record_lms_user_ids(app.coursedir.db_url, app.coursedir.course_id, recorded)
    return students, len(recorded)


def check_sources(args: argparse.Namespace) -> None:
    """Exactly one source, ARCHIVE or --exchange, and only the options that source has."""
    from coursekit.batch.course import CourseError

    if args.exchange and args.archive is not None:
        raise CourseError(
            "Give ARCHIVE (an LMS download) or --exchange (the hub's submissions), not both."
        )
    if not args.exchange and args.archive is None:
        raise CourseError(
            "Say where the submissions are: ARCHIVE (the zip file your LMS gave you) or "
            "--exchange (nbgrader's exchange, on a JupyterHub)."
        )
    if args.exchange:
        wrong = {"--lms": args.lms != "auto", "--regexp": args.regexp, "--force": args.force}
        why = "is for an LMS archive, not for --exchange"
    else:
        wrong = {"--update": args.update, "--student": args.student}
        why = "is for --exchange, not for an LMS archive"
    used = [option for option, given in wrong.items() if given]
    if used:
        raise CourseError(f"{used[0]} {why}.")


def run(args: argparse.Namespace) -> int:
    from coursekit.batch.course import put_tools_on_path

    put_tools_on_path()  # before nbgrader is imported
    from coursekit.batch.course import CourseError, find_root

    check_sources(args)
    if args.exchange:
        from coursekit import exchange

        return exchange.collect_run(args)
    archive = args.archive.resolve()
    if not archive.is_file():
        raise CourseError(f"There is no file {args.archive}.")
    if not zipfile.is_zipfile(archive):
        raise CourseError(f"{args.archive} is not a zip archive.")
    root = find_root(args.course)
    pattern = args.regexp or choose_pattern(archive, args.lms)
    students, recorded = collect(root, args.assignment_id, archive, pattern, force=args.force)
    print(f"collected {args.assignment_id} for {len(students)} student(s) into submitted/")
    if recorded:
        print(
            f"recorded the Canvas user id of {recorded} student(s) in the gradebook "
            f"(course grade writes reports/{args.assignment_id}/canvas.csv from them)"
        )
    return 0
