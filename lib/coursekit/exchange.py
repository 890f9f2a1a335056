"""nbgrader's exchange, for a course on a JupyterHub: collect submissions, release feedback.

On a shared machine (a JupyterHub with real accounts, hub/jupyterhub_config.py) nbgrader moves
files through its *exchange*, a folder every user writes to (``Exchange.root``, normally
/srv/nbgrader/exchange, mode 1777). The instructor releases an assignment into it (``nbgrader
release_assignment ID``); students fetch and submit it with JupyterLab's Assignment List; then:

* ``course collect ID --exchange`` copies the newest submission of each student into
  ``submitted/<student>/ID/`` (nbgrader's ``collect``: ``ExchangeCollect``), ready for
  ``course grade ID``;
* ``course release-feedback ID`` puts the feedback that ``course grade`` wrote into the exchange
  (nbgrader's ``release_feedback``: one HTML file per notebook, named by a hash only its
  student's submission knows), and students fetch it with the Assignment List's *Fetch Feedback*.

Both run nbgrader's own apps in-process, configured as ``nbgrader collect`` started in the course
folder would be: the Jupyter config path (e.g. /etc/jupyter/nbgrader_config.py, where a hub
usually sets ``Exchange.root`` and ``CourseDirectory.course_id`` for everyone), then the course's
nbgrader_config.py. Before nbgrader runs, the common mistakes (no course id, no exchange, nothing
released or submitted, a folder the instructor cannot read) are checked and reported in one
sentence each, when the exchange is nbgrader's default, file-based one.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

FEEDBACK_SUMMARY = "put the feedback of ID into nbgrader's exchange, for students to fetch"


@dataclass
class Collected:
    """What ``collect`` did, student ids each."""

    collected: list[str] = field(default_factory=list)  # new in submitted/
    updated: list[str] = field(default_factory=list)  # replaced by a newer submission
    kept: list[str] = field(default_factory=list)  # already collected (no --update)
    suspicious: list[str] = field(default_factory=list)  # a file not owned by its student


def _app(app_class: type, root: Path, argv: list[str]):  # noqa: ANN202
    from coursekit.batch.course import load_app

    return load_app(app_class, root, argv, level=logging.INFO)


def _default_exchange(app) -> str | None:  # noqa: ANN001
    """``Exchange.root`` when the app uses nbgrader's default (file) exchange, else None."""
    from nbgrader.exchange import ExchangeFactory
    from nbgrader.exchange.default import exchange as default

    factory = ExchangeFactory(parent=app)
    if not issubclass(factory.exchange, default.Exchange):
        return None  # another exchange (ngshare, ...): nbgrader checks for itself
    return factory.exchange(parent=app).root


def _check_course(app, what: str) -> Path | None:  # noqa: ANN001
    """The course's folder in the exchange (None: not nbgrader's default exchange)."""
    from coursekit.batch.course import CourseError

    if not app.coursedir.course_id:
        raise CourseError(
            f"nbgrader needs the course id to {what}: set c.CourseDirectory.course_id in "
            "nbgrader_config.py (the course's, or the machine's /etc/jupyter/nbgrader_config.py)."
        )
    root = _default_exchange(app)
    if root is None:
        return None
    if not os.path.isdir(root):
        raise CourseError(
            f"There is no exchange folder {root}: create it (mode 1777) or set c.Exchange.root "
            "in nbgrader_config.py to the exchange of your hub."
        )
    return Path(root) / app.coursedir.course_id


def _fail(what: str, outcome: dict) -> None:
    from coursekit.batch.course import CourseError, last_error

    detail = last_error(outcome.get("log", "") + "\n" + outcome.get("error", ""))
    raise CourseError(f"nbgrader could not {what}: {detail}.")


# --- course collect ID --exchange --------------------------------------------------------------


def submissions_in(inbound: Path) -> dict[str, set[str]]:
    """``{assignment id: {student ids}}`` of the submissions in an exchange's inbound folder
    (nbgrader names each ``<student>+<assignment>+<timestamp>[+<random>]`` and reads it back
    the same way: ``rsplit("+", 3)``)."""
    found: dict[str, set[str]] = {}
    for entry in os.listdir(inbound):
        parts = entry.rsplit("+", 3)
        if len(parts) >= 3:
            found.setdefault(parts[1], set()).add(parts[0])
    return found


def collect(
    root: Path, assignment_id: str, update: bool = False, student: str | None = None
) -> Collected:
    """Collect ``assignment_id`` from the exchange into ``submitted/`` (nbgrader's collect)."""
    from nbgrader.apps import CollectApp
    from nbgrader.utils import capture_log

    from coursekit.batch.course import CourseError

    argv = [assignment_id, *(["--update"] if update else [])]
    if student:
        argv.append(f"--student={student}")
    app = _app(CollectApp, root, argv)
    course = _check_course(app, "collect from the exchange")
    if course is not None:
        inbound = course / "inbound"
        if not inbound.is_dir():
            raise CourseError(
                f"Nothing of course {app.coursedir.course_id!r} is in the exchange {course.parent} "
                f"(no {inbound}): release the assignment first (nbgrader release_assignment "
                f"{assignment_id})."
            )
        if not os.access(inbound, os.R_OK | os.X_OK):
            raise CourseError(
                f"You cannot read {inbound} (students can only write there): collect as the "
                "instructor who released the course, the folder's owner."
            )
        there = submissions_in(inbound)
        students = there.get(assignment_id, set())
        if student and student not in students:
            raise CourseError(
                f"{student} has not submitted {assignment_id} "
                f"(submitted: {', '.join(sorted(students)) or 'nobody yet'})."
            )
        if not students:
            others = ", ".join(sorted(there)) or "none"
            raise CourseError(
                f"No submission of {assignment_id} is in the exchange yet "
                f"(assignments submitted: {others})."
            )
    outcome = capture_log(app)
    if not outcome["success"]:
        _fail(f"collect {assignment_id} from the exchange", outcome)
    log = outcome.get("log", "")
    done = Collected(
        collected=re.findall(r"Collecting submission: (\S+) ", log),
        updated=re.findall(r"Updating submission: (\S+) ", log),
        kept=re.findall(r"Submission already exists, use --update to update: (\S+) ", log)
        + re.findall(r"No newer submission to collect: (\S+) ", log),
        suspicious=re.findall(r"claims to be submitted by (\S+) but is owned by", log),
    )
    return done


def collect_run(args: argparse.Namespace) -> int:
    """``course collect ID --exchange`` (``coursekit.collect`` parses the arguments)."""
    from coursekit.batch.course import find_root

    root = find_root(args.course)
    done = collect(root, args.assignment_id, update=args.update, student=args.student)
    fresh = done.collected + done.updated
    print(
        f"collected {args.assignment_id} from the exchange for {len(fresh)} student(s) into "
        f"submitted/" + (f": {', '.join(sorted(fresh))}" if fresh else "")
    )
    if done.kept:
        print(
            f"kept the submissions collected before of {len(done.kept)} student(s) "
            f"({', '.join(sorted(done.kept))}): --update replaces them with newer ones"
        )
    for name in done.suspicious:
        print(
            f"warning: the submission of {name} is not owned by {name}'s account "
            "(someone else may have submitted it)"
        )
    return 0


# --- course release-feedback ID -----------------------------------------------------------------


def release_feedback(root: Path, assignment_id: str, student: str | None = None) -> list[str]:
    """Release the feedback of ``assignment_id`` to the exchange; return the students'."""
    from nbgrader.apps import ReleaseFeedbackApp
    from nbgrader.utils import capture_log

    from coursekit.batch.course import CourseError

    argv = [assignment_id, *([f"--student={student}"] if student else [])]
    app = _app(ReleaseFeedbackApp, root, argv)
    course = _check_course(app, "release feedback")
    feedback = app.coursedir.format_path(
        app.coursedir.feedback_directory, student or "*", assignment_id
    )
    folders = [Path(p) for p in sorted(glob.glob(feedback)) if glob.glob(os.path.join(p, "*.html"))]
    if not folders:
        who = f" for {student}" if student else ""
        raise CourseError(
            f"There is no feedback of {assignment_id}{who} in "
            f"{app.coursedir.feedback_directory}/: grade it first (course grade {assignment_id})."
        )
    for folder in folders:
        missing = [
            n for n in ("timestamp.txt", "submission_secret.txt") if not (folder / n).is_file()
        ]
        if missing:
            raise CourseError(
                f"{folder} has no {' or '.join(missing)}, which students need to find their "
                f"feedback: grade the submission again (course grade {assignment_id} --force)."
            )
    if course is not None and course.is_dir() and not os.access(course, os.W_OK | os.X_OK):
        raise CourseError(
            f"You cannot write to {course}: release feedback as the instructor who released "
            "the course, the folder's owner."
        )
    outcome = capture_log(app)
    if not outcome["success"]:
        _fail(f"release the feedback of {assignment_id}", outcome)
    return sorted(
        set(re.findall(r"Releasing feedback for student '([^']+)'", outcome.get("log", "")))
    )


def add_feedback_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Copy the feedback that `course grade ID` wrote (feedback/<student>/ID/*.html) into "
        "nbgrader's exchange (nbgrader release_feedback): each student then fetches their own "
        "with the Assignment List's Fetch Feedback. Releasing again replaces it."
    )
    parser.add_argument("assignment_id", metavar="ID", help="the assignment, e.g. ps1_power_method")
    parser.add_argument("--student", default=None, help="release the feedback of this student only")
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course folder, holding nbgrader_config.py (default: found from here upwards)",
    )


def feedback_run(args: argparse.Namespace) -> int:
    from coursekit.batch.course import put_tools_on_path

    put_tools_on_path()  # before nbgrader is imported
    from coursekit.batch.course import find_root

    students = release_feedback(find_root(args.course), args.assignment_id, student=args.student)
    print(
        f"released the feedback of {args.assignment_id} to the exchange for "
        f"{len(students)} student(s)" + (f": {', '.join(students)}" if students else "")
    )
    return 0
