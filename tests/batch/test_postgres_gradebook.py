"""The gradebook on PostgreSQL: ``course grade`` with ``db_url = postgresql+psycopg://...``.

A local PostgreSQL (Debian's ``postgresql``, which ``make test`` installs) runs for this module
on a Unix socket in a temporary folder (``coursekit.batch.pgserver``: no TCP port, the
``postgres`` user under root). The demo class of ``test_grade_class`` is graded by the real
command line with the course's ``db_url`` pointing at it, and compared with the SQLite run of the
same class (``graded_class``): every gradebook row, the scores and the report's rows. Then two
``course grade`` runs from two copies of the course write one PostgreSQL gradebook at once (the
same eight students each), and
four merging processes race on the same students: no grade may be lost, duplicated or different.
"""

from __future__ import annotations

import csv
import multiprocessing
import shutil
import time
from pathlib import Path

import pytest
from pipeline_helpers import GRADE_ARGS, copy_course, course_cli, start_course_cli

from coursekit.batch import democourse, gradebook, pgserver

ID = democourse.ASSIGNMENT
COURSE = "demo"
TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")


@pytest.fixture(scope="module")
def postgres():  # noqa: ANN201 - a pgserver.Server
    """A PostgreSQL server for this module (fsync off: the tests need no crash safety)."""
    try:
        server = pgserver.start({"fsync": "off"})
    except pgserver.PostgresUnavailable as error:  # CI runs on Debian as root: never skip
        pytest.fail(f"these tests need PostgreSQL: {error}", pytrace=False)
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


def use_database(root: Path, db_url: str) -> None:
    """Point the course's nbgrader_config.py at ``db_url`` (as an instructor would)."""
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"c.CourseDirectory.db_url = {db_url!r}\n")


def sqlite_url(root: Path) -> str:
    return gradebook.sqlite_url(root / "gradebook.db")


def report_rows(root: Path) -> dict[str, dict]:
    """The report's rows: scores, totals and statuses. (Not the grading time, nor the reason,
    whose wording for a fork bomb depends on which process met the limit first; test_grade_class
    checks the reasons.)"""
    with open(root / "reports" / ID / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    for row in rows.values():
        row.pop("seconds", None)
        row.pop("reason", None)
    return rows


COUNTED_BY_STUDENT = {  # each table's rows of the given students (a join up to the student)
    "student": "SELECT COUNT(*) FROM student WHERE id IN :students",
    "submitted_assignment": (
        "SELECT COUNT(*) FROM submitted_assignment WHERE student_id IN :students"
    ),
    "submitted_notebook": (
        "SELECT COUNT(*) FROM submitted_notebook n JOIN submitted_assignment a "
        "ON n.assignment_id = a.id WHERE a.student_id IN :students"
    ),
    **{
        table: (
            f"SELECT COUNT(*) FROM {table} g JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment a ON n.assignment_id = a.id WHERE a.student_id IN :students"
        )
        for table in ("grade", "comment")
    },
}


def row_counts(db_url: str, students: list[str] | None = None) -> dict[str, int]:
    """Rows per table (of ``students`` only, if given), and grades written twice (any student)."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            if students is None:
                counts = {
                    t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in TABLES
                }
            else:
                counts = {
                    t: conn.execute(
                        text(COUNTED_BY_STUDENT[t]).bindparams(
                            bindparam("students", expanding=True)
                        ),
                        {"students": students},
                    ).scalar()
                    for t in TABLES
                }
            counts["duplicated grades"] = conn.execute(
                text(
                    "SELECT COUNT(*) FROM (SELECT cell_id, notebook_id FROM grade "
                    "GROUP BY cell_id, notebook_id HAVING COUNT(*) > 1) AS twice"
                )
            ).scalar()
        return counts
    finally:
        engine.dispose()


def records(db_url: str) -> dict[str, dict]:
    students = [
        p.name for p in (Path(gradebook.sqlite_path(db_url)).parent / "submitted").iterdir()
    ]
    return {s: gradebook.extract_record(db_url, COURSE, ID, s) for s in sorted(students)}


@pytest.fixture(scope="module")
def graded_on_postgres(postgres, class_template: Path, tmp_path_factory) -> dict:  # noqa: ANN001
    """The class graded by ``course grade --workers 2`` into a new PostgreSQL gradebook (the
    run records the assignment there itself, as on a first run)."""
    root = copy_course(class_template, tmp_path_factory.mktemp("pg") / "course")
    url = postgres.create_database("graded")
    use_database(root, url)
    start = time.monotonic()
    done = course_cli(root, "grade", ID, "--workers", "2", *GRADE_ARGS)
    return {"root": root, "url": url, "run": done, "seconds": time.monotonic() - start}


def test_the_database_is_postgresql_through_psycopg(postgres) -> None:  # noqa: ANN001
    from sqlalchemy import create_engine

    engine = create_engine(postgres.url("postgres"))
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW listen_addresses").scalar() == ""  # the socket only
    engine.dispose()


def test_the_server_runs_as_postgres_on_its_socket_only(postgres) -> None:  # noqa: ANN001
    import os
    import pwd

    import psutil

    user = pwd.getpwnam(pgserver.SYSTEM_USER).pw_uid if os.geteuid() == 0 else os.geteuid()
    assert psutil.Process(postgres.process.pid).uids().real == user  # never root
    assert (postgres.folder / f".s.PGSQL.{postgres.port}").is_socket()
    assert not [c for c in psutil.Process(postgres.process.pid).net_connections("inet")]


def test_a_missing_postgresql_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "15" / "bin").mkdir(parents=True)  # a client-only install: no server
    (tmp_path / "15" / "bin" / "psql").touch()
    with pytest.raises(pgserver.PostgresUnavailable, match="apt-get install postgresql"):
        pgserver.binaries(tmp_path)


def test_grading_on_postgresql_equals_sqlite(graded_on_postgres: dict, graded_class: dict):
    run = graded_on_postgres["run"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "graded 21 submission(s), reused 0" in run.stdout
    assert "gradebook integrity: n/a" in run.stdout  # PRAGMA integrity_check is SQLite's
    root, url = graded_on_postgres["root"], graded_on_postgres["url"]
    assert gradebook.submitted_students(sqlite_url(root), COURSE, ID) == set()  # none on the side
    lite = sqlite_url(graded_class["root"])
    for student in sorted(p.name for p in (root / "submitted").iterdir()):
        mine = gradebook.extract_record(url, COURSE, ID, student)
        theirs = gradebook.extract_record(lite, COURSE, ID, student)
        assert mine == theirs, student
    assert gradebook.part_scores(url, COURSE, ID) == gradebook.part_scores(lite, COURSE, ID)
    assert row_counts(url) == row_counts(lite)
    assert report_rows(root) == report_rows(graded_class["root"])


def test_a_rerun_on_postgresql_reuses_every_grade(graded_on_postgres: dict, tmp_path: Path):
    root = copy_course(graded_on_postgres["root"], tmp_path / "course")
    url = graded_on_postgres["url"]
    before = {s: gradebook.extract_record(url, COURSE, ID, s) for s in democourse.KINDS}
    again = course_cli(root, "grade", ID, "--workers", "2", *GRADE_ARGS)
    assert again.returncode == 0, again.stderr
    assert "graded 0 submission(s), reused 21 unchanged" in again.stdout
    assert {s: gradebook.extract_record(url, COURSE, ID, s) for s in democourse.KINDS} == before


# The students of the two-runs test: good, partly right and broken ones, each quick to grade
# (the loops and bombs of the whole class only add waiting, not gradebook writes).
TOGETHER = [
    "correct_solution",
    "correct_loops",
    "partly_squares",
    "partly_mean",
    "unmodified",
    "deleted_cell",
    "os_exit",
    "malformed_json",
]


def test_two_runs_at_once_write_one_postgresql_gradebook(
    postgres,  # noqa: ANN001
    class_template: Path,
    graded_class: dict,
    tmp_path: Path,
) -> None:
    """Two course folders (two graders) grade the same students into one gradebook at the same
    time: each run merges every student, so the two writers meet on every row. The result must
    be the SQLite run's rows of those students: none lost, none twice, none different."""
    url = postgres.create_database("together")
    roots = [copy_course(class_template, tmp_path / name) for name in ("first", "second")]
    for root in roots:
        use_database(root, url)
        for folder in (root / "submitted").iterdir():
            if folder.name not in TOGETHER:
                shutil.rmtree(folder)
    released = course_cli(roots[0], "release")  # the assignment is in the gradebook before
    assert released.returncode == 0, released.stderr
    runs = [start_course_cli(root, "grade", ID, "--workers", "1", *GRADE_ARGS) for root in roots]
    outputs = [run.communicate(timeout=900) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert f"graded {len(TOGETHER)} submission(s), reused 0" in out
        assert "Traceback" not in out + err
    lite = sqlite_url(graded_class["root"])
    assert row_counts(url) == row_counts(lite, TOGETHER) | {"duplicated grades": 0}
    for student in TOGETHER:
        mine = gradebook.extract_record(url, COURSE, ID, student)
        assert mine == gradebook.extract_record(lite, COURSE, ID, student), student
    together = {s: v for s, v in gradebook.part_scores(lite, COURSE, ID).items() if s in TOGETHER}
    assert gradebook.part_scores(url, COURSE, ID) == together
    wanted = {s: row for s, row in report_rows(graded_class["root"]).items() if s in TOGETHER}
    for root in roots:
        assert report_rows(root) == wanted


def _merge_all(url: str, records: list[dict], barrier, errors) -> None:  # noqa: ANN001
    try:
        with gradebook.Merger(url, COURSE) as merger:
            barrier.wait(60)
            for record in records:
                merger.apply(record)
    except BaseException as error:  # noqa: BLE001 - reported to the test
        errors.put(f"{type(error).__name__}: {str(error).splitlines()[0]}")


def test_racing_mergers_lose_and_duplicate_nothing(postgres, graded_class: dict) -> None:  # noqa: ANN001
    """Four processes merge the same 21 students in the same order at the same moment (the
    worst case for nbgrader's find-then-insert): every merge succeeds and each row is there
    once, equal to the SQLite gradebook's."""
    lite = sqlite_url(graded_class["root"])
    url = postgres.create_database("race")
    gradebook.copy_gradebook(lite, url, COURSE)  # the graded class, then without its grades:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(TABLES):
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    assert gradebook.submitted_students(url, COURSE, ID) == set()
    wanted = records(lite)
    context = multiprocessing.get_context("fork")
    barrier, errors = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_merge_all, args=(url, list(wanted.values()), barrier, errors))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    failed = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert failed == []
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert row_counts(url) == row_counts(lite)
    assert {s: gradebook.extract_record(url, COURSE, ID, s) for s in wanted} == wanted
