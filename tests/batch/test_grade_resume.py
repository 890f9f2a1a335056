"""Interrupted runs resume where they stopped; a killed worker costs a retry, not a student;
the Dask engine on a LocalCluster gives the same rows as the local one."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
from pipeline_helpers import (
    GRADE_ARGS,
    copy_course,
    course_cli,
    sandbox_processes,
    start_course_cli,
    wait_until,
)

from coursekit.batch import democourse, gradebook
from coursekit.batch.pool import stop_leftovers

ID = democourse.ASSIGNMENT


def journal_lines(root: Path) -> list[dict]:
    path = root / "reports" / ID / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rows_without_time(root: Path) -> dict[str, dict]:
    with open(root / "reports" / ID / "grades.csv", newline="") as f:
        return {
            r["student"]: {k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)
        }


def alive(proc: psutil.Process) -> bool:
    """Running, and not a zombie (those wait for init to reap them; they run nothing)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def test_interrupted_and_killed_runs_resume(class_template: Path, graded_class: dict, tmp_path):
    root = copy_course(class_template, tmp_path / "course")
    args = ["grade", ID, "--workers", "2", *GRADE_ARGS]

    # 1. Ctrl-C after a few students: a clean stop, and a hint to run again.
    first = start_course_cli(root, *args)
    assert wait_until(lambda: len(journal_lines(root)) >= 3, 120)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130
    assert "run the same command again" in err and "Traceback" not in err
    after_first = len(journal_lines(root))

    # 2. Killed outright (SIGKILL) a few students later: workers and kernels die with it.
    second = start_course_cli(root, *args)
    assert wait_until(lambda: len(journal_lines(root)) >= after_first + 3, 120)
    helpers = descendants(second.pid)
    second.kill()
    second.communicate(timeout=30)
    assert wait_until(lambda: not any(alive(p) for p in helpers), 20)
    assert wait_until(lambda: not sandbox_processes(root), 20)
    after_second = len(journal_lines(root))

    # 3. The next run grades only what is left, and the result is that of one whole run.
    third = course_cli(root, *args)
    assert third.returncode == 0, third.stderr
    graded_now = int(third.stdout.split("graded ")[1].split(" ")[0])
    reused = int(third.stdout.split("reused ")[1].split(" ")[0])
    assert reused >= after_second - 2  # at most the students in flight at the kill were lost
    assert graded_now + reused == 21 and graded_now < 21
    mine, reference_rows = rows_without_time(root), rows_without_time(graded_class["root"])
    assert {s: r for s, r in mine.items() if r != reference_rows.get(s)} == {}
    assert set(mine) == set(reference_rows)
    url = gradebook.sqlite_url(root / "gradebook.db")
    assert gradebook.integrity_check(url) == "ok"
    reference = gradebook.sqlite_url(graded_class["root"] / "gradebook.db")
    assert gradebook.part_scores(url, "demo", ID) == gradebook.part_scores(reference, "demo", ID)


def test_the_next_run_stops_what_a_killed_run_left_working(tmp_path: Path) -> None:
    """Whatever still works in a run's scratch folder is stopped before the next run of the same
    assignment (which holds its lock) starts; nothing else is touched."""
    work = tmp_path / "reports" / ID / ".work"
    inside = work / "local" / "students" / "ada" / "autograded" / "ada" / ID
    inside.mkdir(parents=True)
    left = subprocess.Popen(["sleep", "300"], cwd=inside, start_new_session=True)
    other = subprocess.Popen(["sleep", "300"], cwd=tmp_path, start_new_session=True)
    try:
        assert stop_leftovers(work) == [left.pid]
        assert not psutil.pid_exists(left.pid)  # killed, and waited for
        assert other.poll() is None
    finally:
        for proc in (left, other):
            proc.kill()
            proc.wait()


def test_a_killed_worker_is_replaced_and_its_student_retried(small_template: Path, tmp_path):
    root = copy_course(small_template, tmp_path / "course")
    democourse.write_submission(root, "slow", "slow")  # sleeps 4 s: time to kill its worker
    run = start_course_cli(root, "grade", ID, "--workers", "2", *GRADE_ARGS)

    def slow_worker() -> psutil.Process | None:
        """The worker whose kernel (cold: a launcher of its own; warm: forked by the worker's
        zygote) works in the slow student's folder."""
        for proc in descendants(run.pid):
            try:
                if f"/slow/{ID}" not in proc.cwd():
                    continue
                while proc is not None and proc.ppid() != run.pid:
                    proc = proc.parent()
                return proc
            except psutil.Error:
                continue
        return None

    assert wait_until(lambda: slow_worker() is not None, 120, step=0.1)
    time.sleep(1.0)  # the kernel is running the student's cells now
    worker = slow_worker()
    assert worker is not None and worker.ppid() == run.pid  # a worker forked by the command
    worker.kill()
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    rows = rows_without_time(root)
    assert (rows["slow"]["status"], rows["slow"]["total"]) == ("ok", "5")
    slow = [e for e in journal_lines(root) if e["student_id"] == "slow"]
    assert [e["attempt"] for e in slow] == [2]
    assert set(rows) == {
        "correct_solution",
        "partly_mean",
        "os_exit",
        "malformed_json",
        "slow",
        "no_submission",
    }
    assert wait_until(lambda: not sandbox_processes(root), 20)


def test_dask_local_cluster_gives_the_same_rows(small_template: Path, graded_class, tmp_path):
    from distributed import LocalCluster

    root = copy_course(small_template, tmp_path / "course")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        done = course_cli(root, "grade", ID, "--scheduler", cluster.scheduler_address, *GRADE_ARGS)
    assert done.returncode == 0, done.stderr
    assert "graded 4 submission(s)" in done.stdout and "integrity: ok" in done.stdout
    rows = rows_without_time(root)
    reference = rows_without_time(graded_class["root"])
    assert rows == {student: reference[student] for student in rows}
    url = gradebook.sqlite_url(root / "gradebook.db")
    ref = gradebook.sqlite_url(graded_class["root"] / "gradebook.db")
    for student in ("correct_solution", "partly_mean", "os_exit", "malformed_json"):
        mine = gradebook.extract_record(url, "demo", ID, student)
        assert mine == gradebook.extract_record(ref, "demo", ID, student)
    assert (root / "feedback" / "correct_solution" / ID / f"{ID}.html").exists()


def test_one_run_per_assignment_at_a_time(small_template: Path, tmp_path: Path) -> None:
    root = copy_course(small_template, tmp_path / "course")
    first = start_course_cli(root, "grade", ID, "--workers", "2", *GRADE_ARGS)
    assert wait_until(lambda: (root / "reports" / ID / ".work").exists(), 60)
    second = course_cli(root, "grade", ID, *GRADE_ARGS)
    assert second.returncode == 1
    assert "Another `course grade ps0_demo` is running" in second.stderr
    first.communicate(timeout=300)
    assert first.returncode == 0
