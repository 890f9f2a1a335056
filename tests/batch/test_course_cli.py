"""The `course` subcommands around grading: release, collect, and errors for people."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from pipeline_helpers import course_cli

from coursekit.batch import democourse

ID = democourse.ASSIGNMENT


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = democourse.make_course(tmp_path_factory.mktemp("cli") / "course")
    done = course_cli(root, "release")
    assert done.returncode == 0, done.stderr
    return root


def one_line_error(done, command: str) -> str:  # noqa: ANN001
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"course {command}: error: "), done.stderr
    return lines[0]


def test_release_regenerates_the_same_assignment(course: Path) -> None:
    notebook = course / "assignments" / ID / f"{ID}.ipynb"
    before = notebook.read_text()
    assert "BEGIN SOLUTION" not in before and "raise NotImplementedError" in before
    again = course_cli(course, "release", ID)
    assert again.returncode == 0 and f"released {ID}" in again.stdout
    assert notebook.read_text() == before


def test_collect_canvas_and_moodle_downloads(course: Path, tmp_path: Path) -> None:
    released = (course / "assignments" / ID / f"{ID}.ipynb").read_bytes()
    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as archive:
        archive.writestr(f"lovelaceada_12_345_{ID}.ipynb", released)
        archive.writestr(f"turingalan_late_13_346_{ID}-1.ipynb", released)  # resubmitted, late
    done = course_cli(course, "collect", ID, str(canvas))
    assert done.returncode == 0, done.stderr
    assert "for 2 student(s)" in done.stdout
    for student in ("lovelaceada", "turingalan"):
        assert (course / "submitted" / student / ID / f"{ID}.ipynb").read_bytes() == released

    moodle = tmp_path / "moodle.zip"
    with zipfile.ZipFile(moodle, "w") as archive:
        archive.writestr(f"Ada Lovelace_1001_assignsubmission_file_/{ID}.ipynb", released)
        archive.writestr(f"Grace Hopper_1002_assignsubmission_file_{ID}.ipynb", released)
    done = course_cli(course, "collect", ID, str(moodle))
    assert done.returncode == 0, done.stderr
    for student in ("1001", "1002"):
        assert (course / "submitted" / student / ID / f"{ID}.ipynb").exists()

    again = course_cli(course, "collect", ID, str(canvas))
    assert "pass --force" in one_line_error(again, "collect")
    assert course_cli(course, "collect", ID, str(canvas), "--force").returncode == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["grade", "nope"], "Unknown assignment 'nope'"),
        (["release", "nope"], "No solutions/nope/"),
        (["collect", ID, "missing.zip"], "There is no file missing.zip"),
        (["collect", ID, "nbgrader_config.py"], "is not a zip archive"),
        (["collect", ID, "x.zip", "--regexp", "("], "There is no file x.zip"),
    ],
)
def test_errors_are_one_sentence(course: Path, args: list[str], says: str) -> None:
    assert says in one_line_error(course_cli(course, *args), args[0])


def test_errors_outside_a_course_and_bad_options(tmp_path: Path) -> None:
    assert "No nbgrader_config.py" in one_line_error(course_cli(tmp_path, "grade", ID), "grade")
    bad = course_cli(tmp_path, "grade", ID, "--workers", "0")
    assert bad.returncode == 2 and "at least 1" in bad.stderr and "Traceback" not in bad.stderr


def test_grade_without_submissions(tmp_path: Path) -> None:
    empty = democourse.make_course(tmp_path / "course")
    assert "collect them first" in one_line_error(course_cli(empty, "grade", ID), "grade")
