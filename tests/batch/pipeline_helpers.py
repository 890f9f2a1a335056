"""Helpers of the grading-pipeline tests: run the course CLI, build and copy demo courses.

The course and its class come from ``coursekit.batch.democourse``: one source notebook with
three graded parts (1 + 2 + 2 points) and one student per kind of submission (every bad kind of
issue 4, plus correct and partly correct ones). Nothing here depends on the real problem sets.
Cell timeout is 5 s and the output cap 1 MB, so that the slow kinds stay fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

from coursekit.batch import democourse
from coursekit.batch.limits import Limits

TIMEOUT = 5
OUTPUT_MB = 1
LIMITS = Limits(timeout=TIMEOUT, output_mb=OUTPUT_MB)
GRADE_ARGS = ["--timeout", str(TIMEOUT), "--output-mb", str(OUTPUT_MB), "--no-progress"]
SANDBOX_UID_BASE = 2_000_000


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONHASHSEED"] = "0"
    env.pop("JUPYTER_PATH", None)
    return env


def course_cli(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``course ARGS`` (python -m coursekit.cli) in ``root``."""
    command = [sys.executable, "-m", "coursekit.cli", *args]
    return subprocess.run(
        command, cwd=root, env=environment(), capture_output=True, text=True, timeout=timeout
    )


def start_course_cli(root: Path, *args: str) -> subprocess.Popen:
    """Start ``course ARGS`` in its own session (so a test can signal it like a terminal)."""
    command = [sys.executable, "-m", "coursekit.cli", *args]
    return subprocess.Popen(
        command,
        cwd=root,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def build_course(root: Path, kinds: list[str], with_torch: bool = False) -> Path:
    """A released demo course with one student per kind (plus one who submitted nothing)."""
    democourse.make_course(root, with_torch=with_torch)
    released = course_cli(root, "release")
    assert released.returncode == 0, released.stderr
    democourse.write_class(root, kinds)
    democourse.add_student_without_submission(root)
    return root


def copy_course(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest


def sandbox_processes(root: Path | None = None) -> list[psutil.Process]:
    """Processes running as a grading sandbox user (in ``root``, if given): none between runs."""
    found = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info["uids"]
        if uids is None or uids.real < SANDBOX_UID_BASE:
            continue
        try:
            if root is None or Path(proc.cwd()).is_relative_to(root):
                found.append(proc)
        except psutil.Error:  # gone meanwhile, or a zombie
            continue
    return found


def wait_until(condition, timeout: float, step: float = 0.2) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


REPO = Path(__file__).resolve().parents[2]


def real_course(root: Path) -> Path:
    """A copy of the repository's nbgrader course (config, solutions, releases), no students."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    for folder in ("solutions", "assignments"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def reference_answers(source: Path) -> dict[str, str]:
    """The solution cells of an nbgrader source notebook, solution markers removed."""
    import json

    answers = {}
    for cell in json.loads(source.read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            text = "".join(cell["source"])
            lines = [line for line in text.splitlines() if "### BEGIN SOLUTION" not in line]
            answers[meta["grade_id"]] = "\n".join(
                line for line in lines if "### END SOLUTION" not in line
            )
    return answers


def hidden_test_lines(source: Path) -> list[str]:
    """Non-trivial lines between nbgrader's hidden-test markers of a source notebook."""
    import json

    found = []
    for cell in json.loads(source.read_text())["cells"]:
        inside = False
        for line in "".join(cell["source"]).splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) > 12:
                found.append(line.strip())
    return found
