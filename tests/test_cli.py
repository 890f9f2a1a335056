"""The `course` command: a registry of subcommands, --help on each, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coursekit import cli

ROOT = Path(__file__).resolve().parent.parent


def run_course(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The command as a user runs it: a new process (`python -m coursekit`)."""
    return subprocess.run(
        [sys.executable, "-m", "coursekit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_lists_every_registered_subcommand():
    result = run_course("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps long lines
    for command in cli.COMMANDS:
        assert f"{command.name} {command.summary}" in text


@pytest.mark.parametrize("name", [c.name for c in cli.COMMANDS])
def test_each_subcommand_has_help(name):
    result = run_course(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: course {name}")


def test_no_subcommand_prints_help_and_fails():
    result = run_course()
    assert result.returncode == 2
    assert "usage: course" in result.stdout


def test_usage_error_is_one_line():
    result = run_course("publish")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("course publish: error:") and "DEST" in lines[0]


def test_unknown_subcommand_is_one_line():
    result = run_course("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_user_error_is_one_line_without_traceback(tmp_path):
    foreign = tmp_path / "not-ours"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = run_course("publish", "--allow-placeholders", str(foreign))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("course publish: error: DEST")
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_outside_the_course_says_where_to_run(tmp_path):
    result = run_course("publish", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no course repository" in result.stderr


def test_publish_prints_a_summary(tmp_path):
    result = run_course("publish", "--allow-placeholders", str(tmp_path / "edition"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Wrote the student edition to {tmp_path / 'edition'}")
    assert (tmp_path / "edition" / "book").is_dir()


def _boom(args) -> int:
    raise RuntimeError("something internal broke")


def _denied(args) -> int:
    raise PermissionError(13, "Permission denied", "/srv/course")


FAKE = (
    cli.Command("boom", "raise a bug", lambda parser: None, _boom),
    cli.Command("denied", "raise an OSError", lambda parser: None, _denied),
)


def test_a_bug_is_one_line_unless_debug(capsys):
    assert cli.main(["boom"], commands=FAKE) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "course boom: internal error: RuntimeError: something internal broke "
        "(run `course --debug ...` for the traceback)"
    ]
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "boom"], commands=FAKE)


def test_os_error_reads_like_a_sentence(capsys):
    assert cli.main(["denied"], commands=FAKE) == 1
    assert capsys.readouterr().err.strip() == "course denied: error: Permission denied: /srv/course"
