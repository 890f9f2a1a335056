"""The LMS round trip: a Canvas download in (``course collect``), Canvas's gradebook file out
(``course grade`` writes ``reports/<id>/canvas.csv``), read back by Canvas's import rules.

The rules checked are those ``coursekit.canvas`` names (Canvas Instructor Guide, "How do I
import grades in the Gradebook?", as canvas-lms's ``GradebookImporter`` applies them): the
header's student columns, ``<name> (<assignment id>)``, a "Points Possible" row, the ID column
holding the Canvas user id, and numbers for points.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from pathlib import Path

from pipeline_helpers import GRADE_ARGS, course_cli

from coursekit import canvas
from coursekit.batch import democourse, gradebook

ID = democourse.ASSIGNMENT
CANVAS_ASSIGNMENT = 4321
# Canvas's file-name form of each sortable name -> (Canvas user id, how Canvas names the file
# after "<name>_", the kind of submission, its total, or None: no row in canvas.csv)
CLASS = {
    "lovelaceada": ("101", f"101_9001_{ID}.ipynb", "correct_solution", 5.0),
    "turingalan": ("102", f"late_102_9002_{ID}-1.ipynb", "partly_mean", 3.0),  # late, resubmitted
    "hoppergrace": ("103", f"103_9003_{ID}.ipynb", "sys_exit", 5.0),  # status problem
    "noetheremmy": ("104", f"104_9004_{ID}.ipynb", "malformed_json", None),  # status error
}
BY_HAND = "placed_by_hand"  # submitted without the LMS: graded, but no Canvas user id


def canvas_download(root: Path, dest: Path) -> Path:
    """A Canvas "Download Submissions" zip of the class, named the way Canvas names files."""
    with zipfile.ZipFile(dest, "w") as archive:
        for name, (_, tail, kind, _) in CLASS.items():
            folder = democourse.write_submission(root, name, kind)
            archive.writestr(f"{name}_{tail}", (folder / f"{ID}.ipynb").read_bytes())
            shutil.rmtree(root / "submitted" / name)
    return dest


def read_canvas_csv(path: Path) -> tuple[str, float, dict[str, list[str]]]:
    """Read ``path`` as Canvas's importer does; return the assignment column's title, its points
    possible, and the student rows by Canvas user id."""
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    header = table[0]
    # The importer's header check: "Student", "ID", then SIS User ID and SIS Login ID, and the
    # last student column is "Section"; every later column is an assignment.
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    assert re.fullmatch(r"SIS\s+User\s+ID", header[2])
    assert re.fullmatch(r"SIS\s+Login\s+ID", header[3])
    assert "Section" in header[4]
    assert len(header) == 6, header  # one assignment
    title_and_id = re.fullmatch(r"(.*)\s\((\d+)\)", header[5])  # "<name> (<assignment id>)"
    assert title_and_id is not None, header[5]
    assert int(title_and_id.group(2)) == CANVAS_ASSIGNMENT
    possible = [row for row in table[1:] if "Points Possible" in row[0]]
    assert len(possible) == 1 and table[1] is possible[0]  # the second row, as Canvas exports
    students = {}
    for row in table[2:]:
        assert len(row) == len(header), row
        assert "Points Possible" not in row[0]
        assert re.fullmatch(r"\d+", row[1]), row  # ID: a Canvas user id
        assert re.fullmatch(r"-?\d+(\.\d+)?", row[5]), row  # points, a plain number
        assert row[1] not in students, row  # one row per student
        students[row[1]] = row
    return title_and_id.group(1), float(possible[0][5]), students


def test_canvas_download_in_canvas_gradebook_out(tmp_path: Path) -> None:
    root = democourse.make_course(tmp_path / "course")
    assert course_cli(root, "release").returncode == 0
    archive = canvas_download(root, tmp_path / "submissions.zip")
    democourse.write_submission(root, BY_HAND, "correct_solution")

    collected = course_cli(root, "collect", ID, str(archive))
    assert collected.returncode == 0, collected.stderr
    assert "for 4 student(s)" in collected.stdout
    assert "recorded the Canvas user id of 4 student(s)" in collected.stdout
    url = gradebook.sqlite_url(root / "gradebook.db")
    recorded = gradebook.lms_students(url, "demo")
    assert {s: v["lms_user_id"] for s, v in recorded.items()} == {
        name: uid for name, (uid, *_) in CLASS.items()
    }

    done = course_cli(
        root, "grade", ID, "--workers", "2", "--canvas-assignment-id", str(CANVAS_ASSIGNMENT),
        *GRADE_ARGS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "canvas.csv" in done.stdout and "2 left out" in done.stdout

    reports = root / "reports" / ID
    title, possible, students = read_canvas_csv(reports / "canvas.csv")
    assert title == ID and possible == sum(democourse.PARTS.values())
    with open(reports / "grades.csv", newline="") as f:
        graded = {row["student"]: row for row in csv.DictReader(f)}
    assert graded["noetheremmy"]["status"] == "error"  # so the class covers what it should
    assert graded["hoppergrace"]["status"] == "problem"
    expected = {uid: (name, total) for name, (uid, _, _, total) in CLASS.items() if total}
    assert set(students) == set(expected)  # the Canvas user ids from the file names
    for uid, (name, total) in expected.items():
        row = students[uid]
        assert row[0] == name and row[2:5] == ["", "", ""]
        assert float(row[5]) == total == float(graded[name]["total"])

    # The error and the student without a Canvas id are left out (not a 0), and the report
    # says so: their Canvas grade stays as it is.
    assert graded[BY_HAND]["status"] == "ok" and float(graded[BY_HAND]["total"]) == 5.0
    page = (reports / "report.html").read_text()
    section = page.split("<h2>Canvas gradebook</h2>", 1)[1]
    assert "leaves their Canvas grade as it is" in section
    assert "<td>noetheremmy</td><td>could not be graded (error)" in section
    assert f"<td>{BY_HAND}</td><td>no Canvas user id" in section
    assert gradebook.lms_students(url, "demo") == recorded  # grading kept the ids


def test_who_gets_a_row(tmp_path: Path) -> None:
    parts = {"a": 1.0, "b": 1.5}

    def row(student: str, status: str, a: float = 1.0, b: float = 1.5) -> dict:
        return {"student": student, "scores": {"a": a, "b": b}, "status": status}

    rows = [
        row("ok", "ok", b=0.5),
        row("problem", "problem", a=0.0),
        row("reviewed", "review"),  # a person graded the flagged part: nothing awaits
        row("to_review", "review"),
        row("manual_left", "ok"),
        row("error", "error", 0.0, 0.0),
        row("missing", "missing", 0.0, 0.0),
        row("no_id", "ok"),
    ]
    ids = {r["student"]: {"lms_user_id": str(i)} for i, r in enumerate(rows)}
    del ids["no_id"]
    ids["ok"] |= {"first_name": "Ada", "last_name": "Lovelace"}
    awaiting = {"to_review": ["b"], "manual_left": ["a"]}
    with_names = canvas.write_gradebook(tmp_path / "c.csv", "ps0", rows, parts, ids, awaiting)
    assert with_names.written == {"ok": 1.5, "problem": 1.5, "reviewed": 2.5}
    assert with_names.left_out == {
        "to_review": "awaiting manual grading of b",
        "manual_left": "awaiting manual grading of a",
        "error": "could not be graded (error): a person decides the grade",
        "missing": "nothing submitted",
        "no_id": "no Canvas user id (not collected from a Canvas download)",
    }
    assert "5 left out" in with_names.summary()


def test_written_file_without_an_assignment_id(tmp_path: Path) -> None:
    rows = [{"student": "lovelaceada", "scores": {"a": 2.25}, "status": "ok"}]
    ids = {"lovelaceada": {"lms_user_id": "101", "first_name": "Ada", "last_name": "Lovelace"}}
    path = tmp_path / "canvas.csv"
    canvas.write_gradebook(path, "ps0", rows, {"a": 3.0}, ids, {})
    with open(path, newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ps0"],
            ["    Points Possible", "", "", "", "", "3"],
            ["Lovelace, Ada", "101", "", "", "", "2.25"],
        ]
    assert [canvas.points(v) for v in (0.0, -0.0, 5.0, 2.5, 1 / 3, 1e6)] == [
        "0", "0", "5", "2.5", "0.3333", "1000000",
    ]  # fmt: skip


def test_two_canvas_users_with_one_name_stop_the_import(tmp_path: Path) -> None:
    root = democourse.make_course(tmp_path / "course")
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"smithjohn_201_9101_{ID}.ipynb", "{}")
        zipped.writestr(f"smithjohn_202_9102_{ID}.ipynb", "{}")
    done = course_cli(root, "collect", ID, str(archive))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("course collect: error: "), done.stderr
    assert "Canvas users 201 and 202" in lines[0] and "'smithjohn'" in lines[0]
    assert not (root / "submitted").exists()  # nothing copied

    bad = course_cli(root, "grade", ID, "--canvas-assignment-id", "x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "expected a whole number" in bad.stderr
