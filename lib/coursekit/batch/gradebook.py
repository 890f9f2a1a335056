"""The gradebook during a parallel run: private copies for the workers, one writer for the real one.

Why not let the workers write the course gradebook? With SQLite, several processes writing one
file meet ``database is locked``: a busy timeout helps, but SQLite refuses at once (no wait) when
two deferred transactions both hold a read lock and want to write, and a writer that dies
mid-transaction holds the others up. So we never have two writers:

1. ``snapshot`` copies the course gradebook (any ``db_url``: SQLite with the backup API, anything
   else table by table) into one SQLite file at the start of the run.
2. Each submission is graded by nbgrader's own ``Autograde`` against a **private copy** of that
   snapshot (``worker.py``), so nbgrader sees exactly what serial grading would see, the
   student's earlier manual grades included.
3. ``extract_record`` reads back, as plain data, every row that grading wrote for that student:
   the student, the submission, and per notebook its flags, grades and comments.
4. ``Merger.apply``, in the one process that owns the course gradebook, writes those values
   through nbgrader's ``Gradebook`` API (``update_or_create_*``, ``find_grade``...): one student at
   a time, so no row is lost or duplicated (nbgrader's unique constraints hold; a re-run updates
   the same rows) and a run killed mid-way leaves whole students, never half of one.

With PostgreSQL (``c.CourseDirectory.db_url = "postgresql+psycopg://..."`` in
nbgrader_config.py; psycopg 3 is in the lock file) the same path works; Dask workers on other
machines then need no database access at all, only the course files. Two runs may then write one
gradebook at once (two course folders, or ``course collect`` during a run), and nbgrader's
``update_or_create_*`` read, then insert, in separate transactions: both writers would insert the
same student or submission and one would fail on nbgrader's unique constraints. So every writer
here takes ``writer_lock`` first (a PostgreSQL advisory lock: one writer at a time, across
processes and machines), and ``snapshot`` reads the tables in one repeatable-read transaction
(a consistent copy while another run merges).
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"
WRITER_LOCK = 0x636B_6762  # "ckgb": the advisory lock key of the gradebook's writers


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for any other database."""
    if db_url.startswith(SQLITE_PREFIX):
        return Path(db_url[len(SQLITE_PREFIX) :].split("?", 1)[0])
    return None


def sqlite_url(path: Path) -> str:
    return f"{SQLITE_PREFIX}{Path(path).resolve()}"


def snapshot(db_url: str, dest: Path, course_id: str, generic: bool = False) -> Path:
    """Copy the gradebook at ``db_url`` into the SQLite file ``dest``.

    SQLite is copied with its online backup API (a consistent copy even if someone is writing);
    any other database (or ``generic=True``) row by row through SQLAlchemy, into nbgrader's schema.
    """
    from nbgrader.api import Gradebook

    from coursekit.batch.course import put_tools_on_path

    put_tools_on_path()  # nbgrader runs `alembic` when it creates a gradebook
    dest = Path(dest)
    dest.unlink(missing_ok=True)
    with Gradebook(db_url, course_id):  # creates the tables of a new gradebook
        pass
    source = sqlite_path(db_url)
    if source is not None and not generic:
        with sqlite3.connect(source) as src, sqlite3.connect(dest) as dst:
            src.backup(dst)
        return dest
    _copy_tables(db_url, sqlite_url(dest), course_id)
    return dest


def copy_gradebook(source_url: str, dest_url: str, course_id: str) -> None:
    """Copy nbgrader's tables from one gradebook to another (any two SQLAlchemy URLs, e.g. a
    SQLite gradebook into a new PostgreSQL database); the destination's rows are replaced."""
    from coursekit.batch.course import put_tools_on_path

    put_tools_on_path()  # nbgrader runs `alembic` when it creates a gradebook
    _copy_tables(source_url, dest_url, course_id)


def _copy_tables(source_url: str, dest_url: str, course_id: str) -> None:
    """The rows of nbgrader's tables and its alembic stamp, into ``dest_url``'s (made if new).

    The tables are made from nbgrader's own schema (``Base.metadata``), not by opening a
    ``Gradebook``: that runs ``alembic heads`` in a subprocess to learn the stamp we copy anyway
    (13.6 of the 14.9 s that a PostgreSQL run's snapshot took, measured under load).
    """
    from nbgrader.api import Base
    from sqlalchemy import MetaData, create_engine, insert, select

    source = create_engine(source_url)
    if source.dialect.name == "postgresql":  # every table as of one moment
        source = source.execution_options(isolation_level="REPEATABLE READ")
    dest = create_engine(dest_url)
    try:
        with source.connect() as read, dest.begin() as write:
            stamp = MetaData()
            stamp.reflect(bind=read, only=["alembic_version"])
            version = stamp.tables["alembic_version"]
            Base.metadata.create_all(write)
            version.create(write, checkfirst=True)
            for table in reversed(Base.metadata.sorted_tables):
                write.execute(table.delete())
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in read.execute(select(table))]
                if rows:
                    write.execute(insert(table), rows)
            versions = [dict(r._mapping) for r in read.execute(select(version))]
            write.execute(version.delete())
            write.execute(insert(version), versions)
    finally:
        source.dispose()
        dest.dispose()


@contextmanager
def writer_lock(engine) -> Iterator[None]:  # noqa: ANN001 - a SQLAlchemy Engine
    """Be the only writer of the gradebook at ``engine`` for the ``with`` block.

    PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) on a connection of its own,
    so it holds across the several commits that nbgrader's API makes, and the server releases it
    if this process dies. Other databases: nothing (SQLite locks the file itself, and a run has
    one writer).
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": WRITER_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": WRITER_LOCK})


def extract_record(db_url: str, course_id: str, assignment_id: str, student_id: str) -> dict:
    """Everything grading wrote for one student and assignment, as plain (JSON-able) data.

    Returns ``{"student": {...}, "submission": None}`` when nbgrader never created the
    submission (for example, no notebook was found).
    """
    from nbgrader.api import Gradebook, MissingEntry

    from coursekit.verdicts import seeds

    with Gradebook(db_url, course_id) as gb:
        try:
            student = gb.find_student(student_id)
        except MissingEntry:
            return {"student": None, "submission": None}
        record: dict = {
            "student": {
                "id": student.id,
                "first_name": student.first_name,
                "last_name": student.last_name,
                "email": student.email,
                "lms_user_id": student.lms_user_id,
            },
            "submission": None,
        }
        try:
            submission = gb.find_submission(assignment_id, student_id)
        except MissingEntry:
            return record
        notebooks = {}
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "flagged": nb.flagged,
                "late_submission_penalty": nb.late_submission_penalty,
                "grades": {
                    g.name: {
                        "auto_score": g.auto_score,
                        "manual_score": g.manual_score,
                        "extra_credit": g.extra_credit,
                        "needs_manual_grade": g.needs_manual_grade,
                        "max_score": g.max_score,
                    }
                    for g in nb.grades
                },
                "comments": {
                    c.name: {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment}
                    for c in nb.comments
                },
            }
        record["submission"] = {
            "assignment": assignment_id,
            "seeds": [
                [r.submission_hash, r.seed] for r in seeds.lookup(db_url, assignment_id, student_id)
            ],
            "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
            "extension": submission.extension.total_seconds() if submission.extension else None,
            "notebooks": notebooks,
        }
        return record


class Merger:
    """The one writer of the course gradebook during a run: one connection, one student a time."""

    def __init__(self, db_url: str, course_id: str) -> None:
        from nbgrader.api import Gradebook

        self.db_url = db_url
        self.gb = Gradebook(db_url, course_id)

    def __enter__(self) -> Merger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.gb.close()

    def apply(self, record: dict) -> None:
        """Write one student's grading results; all of them or, on an error, none."""
        from sqlalchemy.exc import SAWarning

        from coursekit.verdicts import seeds

        student = record.get("student")
        if student is None:
            return
        with writer_lock(self.gb.engine), warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission autoflushes
            try:
                _apply(self.gb, student, record.get("submission"))
            except BaseException:
                self.gb.db.rollback()
                raise
            submission = record.get("submission") or {}
            for digest, seed in submission.get("seeds", []):  # so that a grade can be reproduced
                seeds.record(self.db_url, submission["assignment"], student["id"], digest, seed)


def apply_record(db_url: str, course_id: str, record: dict) -> None:
    """Write one student's grading results into the course gradebook."""
    with Merger(db_url, course_id) as merger:
        merger.apply(record)


def _apply(gb, student: dict, submission: dict | None) -> None:  # noqa: ANN001 - a Gradebook
    fields = {k: v for k, v in student.items() if k != "id"}
    gb.update_or_create_student(student["id"], **fields)
    if submission is None:
        return
    assignment, sid = submission["assignment"], student["id"]
    extra = {}
    if submission["timestamp"] is not None:
        extra["timestamp"] = submission["timestamp"]
    if submission["extension"] is not None:
        extra["extension"] = timedelta(seconds=submission["extension"])
    gb.update_or_create_submission(assignment, sid, **extra)
    for name, notebook in submission["notebooks"].items():
        nb = gb.find_submission_notebook(name, assignment, sid)
        nb.flagged = notebook["flagged"]
        nb.late_submission_penalty = notebook["late_submission_penalty"]
        for cell, values in notebook["grades"].items():
            grade = gb.find_grade(cell, name, assignment, sid)
            for key in ("auto_score", "manual_score", "extra_credit", "needs_manual_grade"):
                setattr(grade, key, values[key])
        for cell, values in notebook["comments"].items():
            comment = gb.find_comment(cell, name, assignment, sid)
            comment.auto_comment = values["auto_comment"]
            comment.manual_comment = values["manual_comment"]
    gb.db.commit()


def integrity_check(db_url: str) -> str:
    """``PRAGMA integrity_check`` of a SQLite gradebook ("ok" when sound; "n/a" otherwise)."""
    path = sqlite_path(db_url)
    if path is None or not path.exists():
        return "n/a"
    with sqlite3.connect(path) as db:
        return "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))


def part_scores(db_url: str, course_id: str, assignment_id: str) -> dict[str, dict[str, float]]:
    """``{student: {"notebook/grade_id" or "grade_id": score}}`` for every submission in the DB.

    The score is nbgrader's own ``Grade.score`` (manual over auto, plus extra credit; 0 if
    neither is set).
    """
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, dict[str, float]] = {}
    with Gradebook(db_url, course_id) as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            return out
        single = len(assignment.notebooks) == 1
        for submission in assignment.submissions:
            scores = out.setdefault(submission.student.id, {})
            for nb in submission.notebooks:
                for grade in nb.grades:
                    key = grade.name if single else f"{nb.name}/{grade.name}"
                    scores[key] = float(grade.score)
    return out


def assignment_parts(db_url: str, course_id: str, assignment_id: str) -> dict[str, float]:
    """``{part: max points}`` of the assignment's graded cells (keys as in ``part_scores``)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            return {}
        single = len(assignment.notebooks) == 1
        parts = {}
        for nb in assignment.notebooks:
            for cell in nb.grade_cells + nb.task_cells:
                key = cell.name if single else f"{nb.name}/{cell.name}"
                parts[key] = float(cell.max_score)
        return parts


def has_assignment(db_url: str, course_id: str, assignment_id: str) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            gb.find_assignment(assignment_id)
        except MissingEntry:
            return False
        return True


def submitted_students(db_url: str, course_id: str, assignment_id: str) -> set[str]:
    """Students with a submission of the assignment in the gradebook."""
    return set(part_scores(db_url, course_id, assignment_id))


def master_cells(db_url: str, course_id: str, assignment_id: str) -> dict[str, list[dict]]:
    """The master copy nbgrader keeps: ``{notebook: [{name, cell_type, kind, source}]}``."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        assignment = gb.find_assignment(assignment_id)
        out = {}
        for nb in assignment.notebooks:
            graded = {c.name for c in nb.grade_cells}
            solution = {c.name for c in nb.solution_cells}
            task = {c.name for c in nb.task_cells}
            cells = []
            for cell in nb.source_cells:
                kind = (
                    "grade"
                    if cell.name in graded and cell.name not in solution
                    else "solution"
                    if cell.name in solution
                    else "task"
                    if cell.name in task
                    else "locked"
                )
                cells.append(
                    {
                        "name": cell.name,
                        "cell_type": cell.cell_type,
                        "kind": kind,
                        "source": cell.source or "",
                    }
                )
            out[nb.name] = cells
        return out


def record_lms_user_ids(db_url: str, course_id: str, ids: dict[str, str]) -> None:
    """Store each student's LMS user id in nbgrader's own ``Student.lms_user_id``, creating the
    students that are not in the gradebook yet (grading keeps the field: see ``extract_record``)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb, writer_lock(gb.engine):
        for student, lms_user_id in ids.items():
            gb.update_or_create_student(student, lms_user_id=lms_user_id)


def lms_students(db_url: str, course_id: str) -> dict[str, dict[str, str]]:
    """``{student: {"lms_user_id", "first_name", "last_name"}}`` of students with an LMS user id."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        return {
            s.id: {
                "lms_user_id": s.lms_user_id,
                "first_name": s.first_name or "",
                "last_name": s.last_name or "",
            }
            for s in gb.students
            if s.lms_user_id
        }


def awaiting_manual_grade(db_url: str, course_id: str, assignment_id: str) -> dict[str, list[str]]:
    """``{student: [part, ...]}``: the parts nbgrader still flags ``needs_manual_grade`` (a
    review flag, or a manually graded cell nobody has graded yet); keys as in ``part_scores``."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, list[str]] = {}
    with Gradebook(db_url, course_id) as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            return out
        single = len(assignment.notebooks) == 1
        for submission in assignment.submissions:
            for nb in submission.notebooks:
                for grade in nb.grades:
                    if grade.needs_manual_grade:
                        key = grade.name if single else f"{nb.name}/{grade.name}"
                        out.setdefault(submission.student.id, []).append(key)
    return out
