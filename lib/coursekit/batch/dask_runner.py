"""The Dask engine: the same per-student work on an existing ``distributed`` cluster.

``course grade ID --scheduler tcp://host:8786`` submits one task per student. A task runs
``python -m coursekit.batch.worker`` in a fresh process on whichever Dask worker takes it (a
fresh process, because nbgrader changes the working directory and must not share a process with
another grading), with the per-submission time budget, and returns the result as plain data.
The process that ran ``course grade`` merges every result into the gradebook itself, so:

What the Dask workers need:
  * the same Python environment (this project installed, nbgrader, the course's packages);
  * the course folder at the same path (a shared file system such as NFS): they read
    ``submitted/``, ``solutions/`` and ``nbgrader_config.py`` and write ``autograded/``,
    ``feedback/`` and their scratch space under ``reports/<id>/.work/``;
  * no access to the gradebook: they grade against a private SQLite copy of the run's snapshot
    and send the rows back. Only the machine running ``course grade`` opens the course
    gradebook, SQLite or PostgreSQL (``c.CourseDirectory.db_url`` in nbgrader_config.py).
  * to run as root if the kernels should drop to a sandbox user (see ``limited_kernel``).

A lost worker (its machine or process killed) costs a retry, never a grade: the scheduler gives
its tasks to another worker, and
  * every attempt grades in a scratch folder of its own (``<work>/dask/<student>/<host>-<pid>-
    <random>/``), so a half-done attempt (its private gradebook copy half written, its kernel
    still starting) shares nothing with the retry;
  * the grading process dies with the Dask worker that started it (``pool.die_with_parent``), and
    its kernels with it (``coursekit.jail.lifeline``), so a lost attempt stops grading at once;
  * only the task's return value reaches the gradebook, through the one writer here: Dask
    delivers one result per task, so each student is merged once;
  * a result is released as soon as it is merged, so a worker lost later (holding it in memory)
    does not make the scheduler grade that student again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from coursekit.batch.course import CourseError
from coursekit.batch.worker import Result, Setup, Task, failed_result, safe_name


def grade_in_subprocess(setup: dict, task: dict, budget: float) -> dict:
    """Runs on a Dask worker: grade one student in a fresh process; the result as a dict."""
    start = time.monotonic()
    try:
        return _grade_in_subprocess(setup, task, budget, start)
    except Exception as error:  # noqa: BLE001 - report, never raise into Dask
        reason = f"the grading task failed on its Dask worker: {type(error).__name__}: {error}"
        return failed_result(Task(**task), reason[:300], time.monotonic() - start).to_dict()


def attempt_folder(student_work: str) -> Path:
    """A scratch folder for this attempt alone (a retry elsewhere gets another one)."""
    return Path(student_work) / f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _grade_in_subprocess(setup: dict, task: dict, budget: float, start: float) -> dict:
    work = attempt_folder(setup["work"])
    work.parent.mkdir(parents=True, exist_ok=True)
    setup = {**setup, "work": str(work)}
    with tempfile.TemporaryDirectory(prefix="coursekit-dask-") as tmp:
        paths = [Path(tmp) / name for name in ("setup.json", "task.json", "result.json")]
        paths[0].write_text(json.dumps(setup))
        paths[1].write_text(json.dumps(task))
        parent = str(os.getpid())
        command = [sys.executable, "-m", "coursekit.batch.dask_runner", parent, *map(str, paths)]
        with open(work.parent / f"{work.name}.log", "ab") as log:  # a host name has dots
            proc = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
            try:
                proc.wait(timeout=budget)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                reason = f"grading took longer than {budget:.0f} s and was stopped"
                return failed_result(Task(**task), reason, time.monotonic() - start, True).to_dict()
        if proc.returncode != 0 or not paths[2].exists():
            reason = f"the grading process failed (exit code {proc.returncode})"
            return failed_result(Task(**task), reason, time.monotonic() - start).to_dict()
        return json.loads(paths[2].read_text())


def run_dask(
    address: str,
    setup: Setup,
    tasks: list[Task],
    budget: float,
    on_result: Callable[[Result], None],
) -> None:
    """Grade ``tasks`` on the Dask cluster at ``address``; call ``on_result`` for each."""
    if not tasks:
        return
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise CourseError(f"Could not reach the Dask scheduler at {address}: {error}") from None
    futures = {}
    try:
        for task in tasks:
            scratch = Path(setup.work).parent / "dask" / safe_name(task.student_id)
            own = replace(setup, work=str(scratch))
            future = client.submit(
                grade_in_subprocess,
                asdict(own),
                asdict(task),
                budget,
                key=f"coursekit-grade-{setup.assignment_id}-{safe_name(task.student_id)}-{time.time_ns()}",
                pure=False,
                retries=1,
            )
            futures[future] = task
        for future in as_completed(list(futures)):
            task = futures.pop(future)  # the last reference: Dask may forget the result now
            try:
                result = Result(**future.result())
            except Exception as error:  # noqa: BLE001 - a lost worker must not stop the batch
                reason = f"the Dask task failed: {type(error).__name__}: {error}"
                result = failed_result(task, reason[:300], 0.0)
            del future
            on_result(result)
    finally:
        for future in futures:
            future.cancel()
        client.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m coursekit.batch.dask_runner PARENT SETUP TASK OUT``: grade one student, as
    ``coursekit.batch.worker`` does, in a process that dies with the Dask worker ``PARENT``."""
    from coursekit.batch import worker
    from coursekit.batch.pool import die_with_parent

    parent, *paths = argv if argv is not None else sys.argv[1:]
    die_with_parent(int(parent))
    return worker.main(paths)


if __name__ == "__main__":
    sys.exit(main())
