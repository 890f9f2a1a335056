"""The local engine: one worker process per core, each grading one whole student at a time.

Each worker is a process forked from the parent once nbgrader is imported (so it starts at once)
that loads nbgrader's configuration (``worker.Grader``) and then grades the students the parent
sends it, one at a time; a student is only ever sent to one worker.
The parent waits on the workers' pipes and process sentinels together, so it notices at once
when a worker dies (killed, out of memory): that student is retried once on a fresh worker,
and reported as an ``error`` if it kills that one too. A student that takes longer than the
budget has its worker (and the kernel under it) killed. Workers live in their own session, so
Ctrl-C in the terminal reaches only the parent, which then stops them (and their kernels)
itself; they also die with the parent if it is killed (``PR_SET_PDEATHSIG``, checked against
a parent that died before it was set). Their kernels die with them: each kernel's launcher
watches its worker's lifeline (``coursekit.jail.lifeline``), which bubblewrap's own
``--die-with-parent`` cannot replace (it is armed only once the sandbox is half made). Should
anything survive all the same, the next run of the assignment stops what still works in its
scratch folder before it starts (``stop_leftovers``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, replace
from multiprocessing.connection import wait
from pathlib import Path

from coursekit.batch.course import CourseError
from coursekit.batch.worker import Grader, Result, Setup, Task, failed_result, preload

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Be killed (SIGKILL) when the process ``parent`` that started this one dies, however it
    dies; exit at once if it already has (it died before the signal was armed)."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def stop_process_groups(procs: list, grace: float = 15.0) -> None:
    """Stop processes that each lead their own process group (``start_new_session``), with
    everything they started: SIGTERM to each group, then SIGKILL to any group whose leader has
    not ended after ``grace`` seconds. (The Dask scheduler and workers of the benchmark and the
    tests are started this way.)"""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it ended in between
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _serve(conn, setup: dict, log_path: str, parent: int) -> None:  # noqa: ANN001 - in the worker
    """The worker's main loop: grade what the parent sends until it sends None."""
    os.setsid()
    die_with_parent(parent)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:
        grader = Grader(Setup(**setup))
    except Exception as error:  # noqa: BLE001 - tell the parent in one line
        conn.send(("fatal", f"{type(error).__name__}: {error}"))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            # multiprocessing ends a forked worker with os._exit: run the exit handlers now, so
            # that helpers it started (the course's sandbox zygote) stop and are waited for.
            atexit._run_exitfuncs()
            return
        conn.send(("result", grader.grade(Task(**message)).to_dict()))


def kill_tree(pid: int) -> None:
    """Kill a process and everything under it (the kernels of a worker included)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)


def stop_leftovers(folder: Path) -> list[int]:
    """Kill every process working in ``folder`` (its working directory inside it) and return
    their pids: in a run's scratch folder, and with the run's lock held, only what a killed
    earlier run left behind can be there (its kernels, and the sandboxes around them)."""
    import psutil

    folder = Path(os.path.realpath(folder))
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and Path(proc.cwd()).is_relative_to(folder):
                proc.kill()
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    psutil.wait_procs(found, timeout=5)
    return [proc.pid for proc in found]


class Slot:
    """One worker process and the student it is grading."""

    def __init__(self, index: int, setup: Setup, log_path: Path) -> None:
        self.index = index
        self.setup = setup
        self.log_path = log_path
        self.task: Task | None = None
        self.since = 0.0
        self.start()

    def start(self) -> None:
        context = mp.get_context("fork")  # nbgrader is imported already: no 2 s start per worker
        self.conn, child = context.Pipe()
        self.proc = context.Process(
            target=_serve,
            args=(child, asdict(self.setup), str(self.log_path), os.getpid()),
            name=f"coursekit-grade-{self.index}",
        )
        self.proc.start()
        child.close()

    def send(self, task: Task) -> None:
        self.task = task
        self.since = time.monotonic()
        self.conn.send(asdict(task))

    def stop(self, grace: float = 0.0) -> None:
        """Stop the worker: wait ``grace`` seconds for it to end by itself, then kill its tree."""
        self.proc.join(timeout=grace)
        kill_tree(self.proc.pid)
        self.proc.join(timeout=5)
        self.conn.close()

    def restart(self) -> None:
        self.stop()
        self.task = None
        self.start()


def run_local(
    setup: Setup,
    tasks: list[Task],
    workers: int,
    budget: float,
    on_result: Callable[[Result], None],
    log_dir: Path,
) -> None:
    """Grade ``tasks`` on ``workers`` local processes; call ``on_result`` for each student."""
    if not tasks:
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    count = min(workers, len(tasks))
    if count > 1:
        preload(setup)  # once here, not once per worker
    pending = deque(tasks)
    slots = [Slot(i, setup, log_dir / f"worker-{i}.log") for i in range(count)]
    try:
        while pending or any(slot.task for slot in slots):
            for slot in slots:
                if slot.task is None and pending:
                    slot.send(pending.popleft())
            waitables = [s.conn for s in slots if s.task] + [s.proc.sentinel for s in slots]
            ready = wait(waitables, timeout=1.0)
            for slot in slots:
                if slot.task is None:
                    continue
                if slot.conn in ready:
                    _receive(slot, pending, on_result)
                elif slot.proc.sentinel in ready:
                    _died(slot, pending, on_result)
                elif time.monotonic() - slot.since > budget:
                    task, spent = slot.task, time.monotonic() - slot.since
                    reason = f"grading took longer than {budget:.0f} s and was stopped"
                    slot.restart()
                    on_result(failed_result(task, reason, spent, final=True))
        for slot in slots:
            slot.conn.send(None)
        for slot in slots:
            slot.stop(grace=10.0)
    finally:
        for slot in slots:
            if slot.proc.is_alive():
                slot.stop()


def _receive(slot: Slot, pending: deque, on_result: Callable[[Result], None]) -> None:
    try:
        kind, payload = slot.conn.recv()
    except (EOFError, OSError):
        _died(slot, pending, on_result)
        return
    if kind == "fatal":
        raise CourseError(f"A grading worker could not start nbgrader: {payload}")
    slot.task = None
    on_result(Result(**payload))


def _died(slot: Slot, pending: deque, on_result: Callable[[Result], None]) -> None:
    """The worker died under a student: retry once on a fresh worker, then give up."""
    task, spent = slot.task, time.monotonic() - slot.since
    code = slot.proc.exitcode
    slot.restart()
    if task.attempt == 1:
        pending.appendleft(replace(task, attempt=2))
        return
    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    reason = f"the grading process died twice ({how}); run course grade again to retry"
    on_result(failed_result(task, reason, spent, final=False))


__all__ = ["die_with_parent", "kill_tree", "run_local", "stop_leftovers"]
