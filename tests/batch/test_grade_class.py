"""End to end: ``course grade --workers 2`` on a class with every kind of bad submission.

The class (``coursekit.batch.democourse.KINDS``, 21 submissions plus a student who submitted
nothing) is graded once by the real command line. The tests then check every row and reason,
the scores against serial ``nbgrader autograde`` on the same batch, the gradebook (no row lost
or duplicated, ``PRAGMA integrity_check``), the report's figures, feedback and export, that
nothing the students started is left running, and that the file a student tried to overwrite
is intact.
"""

from __future__ import annotations

import csv
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pipeline_helpers import LIMITS, TIMEOUT, copy_course, environment, sandbox_processes

from coursekit.batch import democourse, gradebook
from coursekit.batch.limits import serial_nbgrader_command, write_kernelspec

ID = democourse.ASSIGNMENT
COURSE = "demo"

# student -> (total, status, what the reason must say, parts that lose points)
EXPECTED = {
    "correct_solution": (5, "ok", "", []),
    "correct_loops": (5, "ok", "", []),
    "correct_stdlib": (5, "ok", "", []),
    "partly_squares": (3, "ok", "", ["test_squares_hidden"]),
    "partly_mean": (3, "ok", "", ["test_mean"]),
    "unmodified": (0, "ok", "", ["test_squares", "test_squares_hidden", "test_mean"]),
    "malformed_json": (0, "error", "malformed notebook ps0_demo.ipynb: not valid JSON", None),
    "wrong_file_name": (0, "error", "wrong file name: found 'ps0_demo-Copy1.ipynb'", None),
    "missing_notebook": (0, "error", "missing notebook: no 'ps0_demo.ipynb'", None),
    "deleted_cell": (3, "problem", "deleted cell 'test_mean': not graded, scored 0", ["test_mean"]),
    "duplicated_cell": (0, "error", "duplicated cell 'squares'", None),
    "deleted_metadata": (
        4,
        "problem",
        "metadata deleted from cell 'test_squares'",
        ["test_squares"],
    ),
    "changed_cell_type": (5, "problem", "changed cell type of 'mean' (code -> markdown)", []),
    "infinite_loop": (3, "problem", f"stopped after the {TIMEOUT} s time limit", ["test_mean"]),
    "memory_bomb": (5, "problem", "memory bomb", []),
    "fork_bomb": (5, "problem", "fork bomb: stopped at the process limit", []),
    "sys_exit": (5, "problem", "sys.exit() called", []),
    "os_exit": (0, "error", "the kernel exited with code 0", None),
    "kernel_crash": (0, "error", "the kernel crashed (SIGSEGV)", None),
    "gigantic_output": (5, "problem", "gigantic output", []),
    "write_outside": (5, "problem", "write outside the submission folder", []),
    "no_submission": (0, "missing", "no submission for this assignment", None),
}
PARTS = list(democourse.PARTS)


def read_rows(root: Path) -> dict[str, dict]:
    with open(root / "reports" / ID / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def db_url(root: Path) -> str:
    return gradebook.sqlite_url(root / "gradebook.db")


def test_the_batch_completes(graded_class: dict) -> None:
    run = graded_class["run"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "graded 21 submission(s), reused 0" in run.stdout
    assert "gradebook integrity: ok" in run.stdout


def test_every_student_has_a_row_and_the_right_reason(graded_class: dict) -> None:
    root = graded_class["root"]
    rows = read_rows(root)
    students = {p.name for p in (root / "submitted").iterdir()}
    assert set(rows) == students == set(EXPECTED)
    assert list(rows) == sorted(rows)
    for student, (total, status, reason, lost) in EXPECTED.items():
        row = rows[student]
        assert (float(row["total"]), row["status"]) == (total, status), (student, row)
        assert float(row["max"]) == 5.0
        if reason:
            assert reason in row["reason"], (student, row["reason"])
        else:
            assert row["reason"] == "", (student, row["reason"])
        assert "\n" not in row["reason"]
        if lost is not None:
            lost_parts = [p for p in PARTS if float(row[p]) < democourse.PARTS[p]]
            assert lost_parts == lost, (student, row)
        if status in ("error", "missing"):
            assert all(float(row[p]) == 0 for p in PARTS)
            assert "scored 0" in row["reason"] or status == "missing"


def test_scores_equal_serial_nbgrader(graded_class: dict, class_template: Path, tmp_path: Path):
    """Serial ``nbgrader autograde`` (same kernel and limits) writes the same gradebook rows.

    nbgrader aborts the whole batch at a notebook with a duplicated cell (its DeduplicateIds
    step empties the metadata that its own schema check then rejects), so serially that student
    is graded in a call of its own, as an instructor would have to.
    """
    serial = copy_course(class_template, tmp_path / "serial")
    env = environment()
    env["JUPYTER_PATH"] = str(write_kernelspec(tmp_path / "jupyter", LIMITS))
    command = serial_nbgrader_command(ID, LIMITS)
    batch = subprocess.run(
        [*command, "--CourseDirectory.student_id_exclude=duplicated_cell"],
        cwd=serial,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" in batch.stderr  # nbgrader reports the failed students...
    assert "os_exit" in batch.stderr  # ...and carries on with the others
    alone = subprocess.run(
        [*command, "--student=duplicated_cell"],
        cwd=serial,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert alone.returncode != 0 and "old version" in alone.stderr
    ours = graded_class["root"]
    students = sorted(EXPECTED)
    for student in students:
        mine = gradebook.extract_record(db_url(ours), COURSE, ID, student)
        theirs = gradebook.extract_record(db_url(serial), COURSE, ID, student)
        assert mine == theirs, student
    assert gradebook.part_scores(db_url(ours), COURSE, ID) == gradebook.part_scores(
        db_url(serial), COURSE, ID
    )


def count(root: Path, sql: str) -> int:
    with sqlite3.connect(root / "gradebook.db") as db:
        return db.execute(sql).fetchone()[0]


def test_gradebook_no_row_lost_or_duplicated(graded_class: dict) -> None:
    root = graded_class["root"]
    assert gradebook.integrity_check(db_url(root)) == "ok"
    with_submission = {s for s, (_, status, _, _) in EXPECTED.items() if status != "missing"}
    with_submission -= {"missing_notebook"}  # nbgrader finds no notebook: no submission row
    assert gradebook.submitted_students(db_url(root), COURSE, ID) == with_submission
    assert count(root, "SELECT COUNT(*) FROM submitted_assignment") == len(with_submission)
    assert count(root, "SELECT COUNT(*) FROM submitted_notebook") == len(with_submission)
    assert count(root, "SELECT COUNT(*) FROM grade") == 3 * len(with_submission)
    assert count(root, "SELECT COUNT(*) FROM comment") == 2 * len(with_submission)
    duplicates = (
        "SELECT COUNT(*) FROM (SELECT cell_id, notebook_id FROM grade "
        "GROUP BY cell_id, notebook_id HAVING COUNT(*) > 1)"
    )
    assert count(root, duplicates) == 0
    assert count(root, "SELECT COUNT(*) FROM student") == len(with_submission)


def test_report_figures_feedback_and_export(graded_class: dict) -> None:
    root = graded_class["root"]
    page = (root / "reports" / ID / "report.html").read_text()
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)">', page)
    assert [src for src, _ in images] == [
        "figures/totals.png",
        "figures/parts.png",
        "figures/times.png",
    ]
    for src, alt in images:
        png = root / "reports" / ID / src
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert len(alt) > 20
    assert page.count("<figcaption>") == 3
    for student, (_, status, _, _) in EXPECTED.items():
        if status != "ok":
            assert f"<td>{student}</td><td>{status}</td>" in page
    for student, (_, status, _, _) in EXPECTED.items():
        feedback = root / "feedback" / student / ID / f"{ID}.html"
        assert feedback.exists() == (status in ("ok", "problem")), student
        autograded = root / "autograded" / student / ID / f"{ID}.ipynb"
        assert autograded.exists() == (status in ("ok", "problem")), student
    with open(root / "exports" / ID / "grades.csv", newline="") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    rows = read_rows(root)
    for student, score in exported.items():
        assert score == float(rows[student]["total"])


def test_nothing_left_running_and_nothing_overwritten(graded_class: dict) -> None:
    root = graded_class["root"]
    assert sandbox_processes(root) == []
    victim = root / "submitted" / "correct_solution" / ID / f"{ID}.ipynb"
    assert victim.read_text().startswith("{")  # the write_outside student did not get through
    assert not list((root / "reports" / ID).glob(".work"))  # scratch space cleaned up


def test_rerun_is_idempotent_and_grades_only_what_changed(graded_class: dict, tmp_path: Path):
    from pipeline_helpers import GRADE_ARGS, course_cli

    root = copy_course(graded_class["root"], tmp_path / "course")
    before_rows = read_rows(root)
    before_db = {s: gradebook.extract_record(db_url(root), COURSE, ID, s) for s in EXPECTED}
    again = course_cli(root, "grade", ID, "--workers", "2", *GRADE_ARGS)
    assert again.returncode == 0, again.stderr
    assert "graded 0 submission(s), reused 21 unchanged" in again.stdout
    assert read_rows(root) == before_rows
    assert {s: gradebook.extract_record(db_url(root), COURSE, ID, s) for s in EXPECTED} == before_db

    # The partly-correct student fixes mean(); a wrong-file-name student renames the notebook.
    democourse.write_submission(root, "partly_mean", "correct_solution")
    folder = root / "submitted" / "wrong_file_name" / ID
    shutil.move(folder / f"{ID}-Copy1.ipynb", folder / f"{ID}.ipynb")
    changed = course_cli(root, "grade", ID, "--workers", "2", *GRADE_ARGS)
    assert changed.returncode == 0, changed.stderr
    assert "graded 2 submission(s), reused 19 unchanged" in changed.stdout
    rows = read_rows(root)
    assert (rows["partly_mean"]["total"], rows["partly_mean"]["status"]) == ("5", "ok")
    assert (rows["wrong_file_name"]["total"], rows["wrong_file_name"]["status"]) == ("5", "ok")
    unchanged = set(EXPECTED) - {"partly_mean", "wrong_file_name"}
    assert {s: rows[s] for s in unchanged} == {s: before_rows[s] for s in unchanged}
    assert count(root, "SELECT COUNT(*) FROM submitted_assignment") == 20
    assert gradebook.integrity_check(db_url(root)) == "ok"

    forced = course_cli(root, "grade", ID, "--workers", "2", "--force", *GRADE_ARGS)
    assert "graded 21 submission(s), reused 0" in forced.stdout


@pytest.mark.parametrize("name", ["release", "collect", "grade"])
def test_help_explains_each_subcommand(name: str, tmp_path: Path) -> None:
    from pipeline_helpers import course_cli

    shown = course_cli(tmp_path, name, "--help")
    assert shown.returncode == 0
    assert f"usage: course {name}" in shown.stdout
    assert len(shown.stdout.split()) > 40
