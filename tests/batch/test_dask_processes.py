"""`course grade --scheduler` on a Dask cluster of real processes, started from the command line
as an instructor would on two machines (`dask scheduler`, then `dask worker` twice, each in its
own folder, with the course at the same path), and one of the workers killed mid-run.

The class is small (7 submissions, not the benchmark's 200: on this 2-core machine the Dask path
starts a fresh Python process per submission, and 200 would take several minutes); the
throughput comparison on 200 lives in benchmarks/bench_dask.py.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from pipeline_helpers import (
    build_course,
    copy_course,
    environment,
    sandbox_processes,
    start_course_cli,
    wait_until,
)

from coursekit.batch import democourse, gradebook
from coursekit.batch.pool import stop_process_groups

ID = democourse.ASSIGNMENT
DASK = Path(sys.executable).with_name("dask")
SLEEP = 8  # seconds the slow student's last cell sleeps: the worker is killed in the middle
TIMEOUT = 12
ARGS = ["--timeout", str(TIMEOUT), "--output-mb", "1", "--no-progress"]


@pytest.fixture
def cluster(tmp_path: Path):
    """A `dask scheduler` and two `dask worker` processes (a nanny each), as on two machines."""
    scheduler_file = tmp_path / "scheduler.json"
    env = environment()
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        folder = tmp_path / name
        folder.mkdir()
        log = open(folder / "log.txt", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [str(DASK), *args],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        procs.append(proc)
        return proc

    try:
        start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        )
        assert wait_until(scheduler_file.exists, 60), (tmp_path / "scheduler/log.txt").read_text()
        for name in ("machine-a", "machine-b"):
            start(
                name,
                "worker",
                "--scheduler-file",
                str(scheduler_file),
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--name",
                name,
                "--local-directory",
                str(tmp_path / name),
            )
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        address = json.loads(scheduler_file.read_text())["address"]
        yield {"address": address, "nannies": procs[1:]}
    finally:
        stop_process_groups(procs)


def grades_rows(root: Path) -> list[dict]:
    with open(root / "reports" / ID / "grades.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]


def journal(root: Path) -> list[dict]:
    lines = (root / "reports" / ID / "journal.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def submissions_per_student(root: Path) -> dict[str, int]:
    """Rows of nbgrader's submitted_assignment table per student, read with plain SQL."""
    with sqlite3.connect(root / "gradebook.db") as db:
        query = "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id"
        return dict(db.execute(query).fetchall())


def kill_the_worker_grading(nannies: list[subprocess.Popen], student: str) -> list:
    """SIGKILL the Dask worker process (under one of the `dask worker` nannies) whose grading
    of ``student`` is in its kernel; return it and every process it had under it."""

    def kernel() -> tuple[psutil.Process, int] | None:
        for nanny in nannies:
            for proc in psutil.Process(nanny.pid).children(recursive=True):
                try:
                    if "--memory-mb" in proc.cmdline() and f"/{student}/" in proc.cwd():
                        return proc, nanny.pid
                except psutil.Error:
                    continue
        return None

    assert wait_until(lambda: kernel() is not None, 180, step=0.1), "no kernel for " + student
    wait_until(lambda: False, 1.5)  # the kernel is in the student's sleeping cell now
    proc, nanny = kernel()
    worker = next(p for p in proc.parents() if p.ppid() == nanny)
    below = [worker, *worker.children(recursive=True)]
    worker.send_signal(signal.SIGKILL)
    return below


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_a_dask_worker_killed_mid_run_loses_and_duplicates_nothing(tmp_path: Path, cluster):
    template = build_course(tmp_path / "template", [])
    students = democourse.write_class(template, [*democourse.GOOD_KINDS, "os_exit"])
    slow = democourse.write_submission(template, "slow", "slow") / f"{ID}.ipynb"
    text = slow.read_text()
    assert "time.sleep(4)" in text
    slow.write_text(text.replace("time.sleep(4)", f"time.sleep({SLEEP})"))
    students.append("slow")

    # The same class graded by the local pool, in its own copy of the course while the cluster
    # grades: the reference, with no worker lost.
    reference = copy_course(template, tmp_path / "reference")
    root = copy_course(template, tmp_path / "course")
    local = start_course_cli(reference, "grade", ID, "--workers", "2", *ARGS)
    run = start_course_cli(root, "grade", ID, "--scheduler", cluster["address"], *ARGS)
    try:
        killed = kill_the_worker_grading(cluster["nannies"], "slow")
        # The lost attempt stops at once (long before its student's cell would have ended),
        # kernel included; the scheduler gives the student to a worker again.
        assert wait_until(lambda: not any(alive(p) for p in killed), SLEEP - 3, step=0.1)
        out, err = run.communicate(timeout=600)
        _, local_err = local.communicate(timeout=600)
    finally:
        for proc in (run, local):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
    assert local.returncode == 0, local_err
    assert run.returncode == 0, err
    assert f"graded {len(students)} submission(s)" in out and "integrity: ok" in out

    # Every student exactly once, with the scores of the run that lost nothing.
    rows = grades_rows(root)
    assert sorted(r["student"] for r in rows) == sorted([*students, "no_submission"])
    assert rows == grades_rows(reference)
    assert {r["student"]: r["total"] for r in rows}["slow"] == "5"
    assert len({r["total"] for r in rows}) >= 3  # right and wrong answers: the scores differ
    entries = journal(root)
    assert sorted(e["student_id"] for e in entries) == sorted(students)
    assert submissions_per_student(root) == dict.fromkeys(students, 1)
    url, ref = (gradebook.sqlite_url(r / "gradebook.db") for r in (root, reference))
    for student in students:
        mine = gradebook.extract_record(url, "demo", ID, student)
        assert mine == gradebook.extract_record(ref, "demo", ID, student), student
    assert (root / "feedback" / "slow" / ID / f"{ID}.html").exists()
    assert not (root / "reports" / ID / ".work").exists()
    assert wait_until(lambda: not sandbox_processes(root), 20)
