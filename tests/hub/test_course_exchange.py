"""`course collect ID --exchange` and `course release-feedback ID`, without a hub.

The exchange here is a temporary folder laid out as nbgrader's default exchange lays it out
(``<root>/<course id>/inbound/<student>+<assignment>+<timestamp>+<random>/``, and
``<root>/<course id>/feedback/<hash>.html``), its settings in an nbgrader_config.py on the Jupyter
config path, as a hub's /etc/jupyter/nbgrader_config.py would be. The course is the real one's
nbgrader_config.py in a temporary folder. Every bad input gets one line, and nothing is copied.
(test_exchange_on_hub.py runs both commands on a real hub, as a real instructor.)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import notebook_hash

from coursekit import cli

ROOT = Path(__file__).resolve().parents[2]
COURSE_ID = "pytorch-from-scratch"
ASSIGNMENT = "ps1_power_method"


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    """A course folder; its exchange at tmp/exchange (settings on the Jupyter config path)."""
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    config = tmp_path / "jupyter"
    config.mkdir()
    (config / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.Exchange.root = {str(exchange)!r}\n"
    )
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(config))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "no-user-config"))
    monkeypatch.chdir(folder)
    return folder


def exchange_of(course: Path) -> Path:
    return course.parent / "exchange"


def submit(course: Path, student: str, timestamp: str, text: str = "answer") -> Path:
    """A submission in the exchange, as nbgrader's submit leaves it."""
    inbound = exchange_of(course) / COURSE_ID / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    folder = inbound / f"{student}+{ASSIGNMENT}+{timestamp}+{abs(hash(text)) % 10**8:08d}"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)])
    nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


def course_command(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(capsys, *args: str) -> str:
    status, out, err = course_command(capsys, *args)
    assert status in (1, 2), (status, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- collect --------------------------------------------------------------------------------


def test_collect_takes_the_newest_submission_of_each_student(course, capsys):
    submit(course, "ada", "2026-01-15 09:00:00.000000 UTC", "first try")
    submit(course, "ada", "2026-01-15 10:00:00.000000 UTC", "second try")
    submit(course, "grace", "2026-01-15 09:30:00.000000 UTC", "only try")
    status, out, _ = course_command(capsys, "collect", ASSIGNMENT, "--exchange")
    assert status == 0
    assert f"collected {ASSIGNMENT} from the exchange for 2 student(s)" in out
    assert "ada, grace" in out
    ada = nbformat.read(course / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    assert ada.cells[0].source == "second try"
    assert (course / "submitted" / "grace" / ASSIGNMENT / "timestamp.txt").is_file()


def test_collect_again_keeps_what_it_has_unless_told_to_update(course, capsys):
    submit(course, "ada", "2026-01-15 09:00:00.000000 UTC", "first try")
    assert course_command(capsys, "collect", ASSIGNMENT, "--exchange")[0] == 0
    submit(course, "ada", "2026-01-15 11:00:00.000000 UTC", "late fix")
    status, out, _ = course_command(capsys, "collect", ASSIGNMENT, "--exchange")
    assert status == 0 and "for 0 student(s)" in out and "--update replaces them" in out
    collected = course / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert nbformat.read(collected, 4).cells[0].source == "first try"
    status, out, _ = course_command(capsys, "collect", ASSIGNMENT, "--exchange", "--update")
    assert status == 0 and "for 1 student(s) into submitted/: ada" in out
    assert nbformat.read(collected, 4).cells[0].source == "late fix"


def test_collect_one_student(course, capsys):
    submit(course, "ada", "2026-01-15 09:00:00.000000 UTC")
    submit(course, "grace", "2026-01-15 09:00:00.000000 UTC")
    status, out, _ = course_command(
        capsys, "collect", ASSIGNMENT, "--exchange", "--student", "grace"
    )
    assert status == 0 and "for 1 student(s) into submitted/: grace" in out
    assert not (course / "submitted" / "ada").exists()


def test_collect_warns_of_a_submission_someone_else_owns(course, capsys):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")  # CI runs as root
    folder = submit(course, "nobody-else", "2026-01-15 09:00:00.000000 UTC")
    status, out, _ = course_command(capsys, "collect", ASSIGNMENT, "--exchange")
    assert status == 0
    assert folder.stat().st_uid == 0
    assert "warning: the submission of nobody-else is not owned by" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "Say where the submissions are: ARCHIVE"),
        (("x.zip", "--exchange"), "not both"),
        (("--exchange", "--force"), "--force is for an LMS archive"),
        (("--exchange", "--lms", "canvas"), "--lms is for an LMS archive"),
        (("x.zip", "--update"), "--update is for --exchange"),
        (("x.zip", "--student", "ada"), "--student is for --exchange"),
    ],
)
def test_collect_refuses_mixed_up_sources_in_one_line(course, capsys, args, expected):
    line = one_line_error(capsys, "collect", ASSIGNMENT, *args)
    assert line.startswith("course collect: error:") and expected in line, line


def test_collect_says_when_nothing_was_released(course, capsys):
    line = one_line_error(capsys, "collect", ASSIGNMENT, "--exchange")
    assert "Nothing of course 'pytorch-from-scratch' is in the exchange" in line, line
    assert "nbgrader release_assignment ps1_power_method" in line


def test_collect_names_what_was_submitted_when_the_id_is_wrong(course, capsys):
    submit(course, "ada", "2026-01-15 09:00:00.000000 UTC")
    line = one_line_error(capsys, "collect", "ps1_power_methd", "--exchange")
    assert "No submission of ps1_power_methd" in line and "ps1_power_method" in line, line
    line = one_line_error(capsys, "collect", ASSIGNMENT, "--exchange", "--student", "linus")
    assert "linus has not submitted ps1_power_method (submitted: ada)" in line, line
    assert not (course / "submitted").exists()


def test_collect_says_when_the_exchange_is_missing(course, capsys):
    shutil.rmtree(exchange_of(course))
    line = one_line_error(capsys, "collect", ASSIGNMENT, "--exchange")
    assert f"There is no exchange folder {exchange_of(course)}" in line, line
    assert "c.Exchange.root" in line


def test_collect_needs_a_course_id(course, capsys):
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text().replace("c.CourseDirectory.course_id =", "# was:"))
    line = one_line_error(capsys, "collect", ASSIGNMENT, "--exchange")
    assert "course id" in line and "c.CourseDirectory.course_id" in line, line


# --- release-feedback -----------------------------------------------------------------------


def feedback(course: Path, student: str, secret: str | None = "s3cr3t") -> Path:
    """What `course grade` leaves in feedback/<student>/ID/."""
    folder = course / "feedback" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.html").write_text(f"<h4>{ASSIGNMENT} (Score: 8.0 / 8.0)</h4>")
    (folder / "timestamp.txt").write_text("2026-01-15 09:00:00.000000 UTC")
    if secret is not None:
        (folder / "submission_secret.txt").write_text(secret)
    return folder


def test_release_feedback_puts_each_students_file_under_its_hash(course, capsys):
    feedback(course, "ada", "ada's secret")
    feedback(course, "grace", "grace's secret")
    status, out, _ = course_command(capsys, "release-feedback", ASSIGNMENT)
    assert status == 0
    assert f"released the feedback of {ASSIGNMENT} to the exchange for 2 student(s)" in out
    released = exchange_of(course) / COURSE_ID / "feedback"
    for secret in ("ada's secret", "grace's secret"):
        name = notebook_hash(secret=secret, notebook_id=ASSIGNMENT) + ".html"
        assert "Score: 8.0 / 8.0" in (released / name).read_text()
    assert len(list(released.iterdir())) == 2


def test_release_feedback_of_one_student(course, capsys):
    feedback(course, "ada")
    feedback(course, "grace", "other")
    status, out, _ = course_command(capsys, "release-feedback", ASSIGNMENT, "--student", "ada")
    assert status == 0 and "for 1 student(s): ada" in out


def test_release_feedback_before_grading_says_to_grade(course, capsys):
    line = one_line_error(capsys, "release-feedback", ASSIGNMENT)
    assert line.startswith("course release-feedback: error: There is no feedback of"), line
    assert "course grade ps1_power_method" in line
    assert not (exchange_of(course) / COURSE_ID).exists()


def test_release_feedback_needs_the_submission_secret(course, capsys):
    feedback(course, "ada", secret=None)
    line = one_line_error(capsys, "release-feedback", ASSIGNMENT)
    assert "has no submission_secret.txt" in line and "--force" in line, line
