"""``course grade``: the whole run, as a pipeline of small steps.

1. ``load``      nbgrader's configuration of the course (``nbgrader_config.py``), the students;
                 the sandbox check (``jail.check``: the run stops unless it works, or
                 ``--unsafe-no-sandbox`` was chosen).
2. ``prepare``   the assignment's master copy in the gradebook (recorded from the source if it is
                 missing, as ``course release`` would), a snapshot of the gradebook, the plan:
                 which students are new or changed (``plan``).
3. ``grade``     the chosen students, in parallel: local worker processes (``pool``) or a Dask
                 cluster (``dask_runner``); each result is merged into the gradebook and
                 journaled as it arrives, under a progress bar (done/total and ETA).
4. ``export``    nbgrader's own export (``exports/<id>/grades.csv``), then ``reports/<id>/``:
                 ``grades.csv`` and ``report.html`` (``coursekit.report``), ``canvas.csv``
                 for Canvas's gradebook import when students came from a Canvas download
                 (``coursekit.canvas``), and ``sandbox.txt``: what confined student code (or
                 that nothing did).

Feedback is generated per student by the workers, right after autograding (``worker``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from coursekit import jail
from coursekit.batch import gradebook, plan
from coursekit.batch.course import CourseError, load_app, put_tools_on_path, source_assignments
from coursekit.batch.limits import Limits
from coursekit.batch.worker import Result, Setup, Task

SANDBOX_NOTE = "sandbox.txt"  # reports/<id>/: what confined student code in the last run


@dataclass(frozen=True)
class Options:
    """The choices of one ``course grade`` run."""

    assignment_id: str
    workers: int | None = None
    scheduler: str | None = None
    limits: Limits = field(default_factory=Limits)
    timeout: int | None = None  # None: the course's Execute.timeout, else limits.timeout
    force: bool = False
    progress: bool = True
    unsafe_no_sandbox: bool = False
    canvas_assignment_id: int | None = None  # the Canvas column "<id> (<this>)" of canvas.csv
    kernels: str = "warm"  # "warm": forked from each worker's zygote (see zygote); "cold": fresh


@dataclass
class Outcome:
    """What a run did and where it wrote it."""

    rows: list[dict]
    graded: int
    reused: int
    seconds: float
    csv: Path
    html: Path
    integrity: str
    timeout: int = 0
    sandbox: str = ""
    canvas: str = ""  # what canvas.csv holds, if it was written
    kernels: str = ""  # how the grading kernels started

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return (
            f"graded {self.graded} submission(s), reused {self.reused} unchanged, "
            f"in {self.seconds:.1f} s ({statuses}); cell time limit {self.timeout} s; "
            f"gradebook integrity: {self.integrity}\n"
            f"student code ran in: {self.sandbox}"
            + (f"; kernels: {self.kernels}" if self.kernels else "")
            + "\n"
            f"wrote {self.csv} and {self.html}" + (f"\n{self.canvas}" if self.canvas else "")
        )


@dataclass
class Course:
    """The course as nbgrader sees it."""

    root: Path
    app: object
    db_url: str
    course_id: str
    submitted: Path


def load(root: Path, assignment_id: str) -> Course:
    put_tools_on_path()
    from nbgrader.apps import AutogradeApp

    app = load_app(AutogradeApp, root, [assignment_id])
    cd = app.coursedir
    known = set(source_assignments(root, cd.source_directory)) | set(
        source_assignments(root, cd.release_directory)
    )
    if assignment_id not in known:
        raise CourseError(
            f"Unknown assignment {assignment_id!r}: there is no {cd.source_directory}/"
            f"{assignment_id}/ or {cd.release_directory}/{assignment_id}/ "
            f"(known: {', '.join(sorted(known)) or 'none'})."
        )
    submitted = root / cd.submitted_directory
    if not plan.discover_students(submitted):
        raise CourseError(
            f"No submissions in {submitted}: collect them first "
            f"(course collect {assignment_id} ARCHIVE)."
        )
    return Course(root, app, cd.db_url, cd.course_id, submitted)


def _lock(reports: Path, aid: str):  # noqa: ANN202 - the open lock file
    """One ``course grade`` per assignment at a time (they would share a scratch folder)."""
    import fcntl

    handle = open(reports / ".lock", "w")  # noqa: SIM115 - held until the run ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CourseError(
            f"Another `course grade {aid}` is running on this course; wait for it to finish."
        ) from None
    return handle


def _stop_leftovers(work: Path, say: Callable[[str], None]) -> None:
    """Stop what a killed earlier run of this assignment may have left working in its scratch
    folder (we hold the lock: no other run of it is going on)."""
    if not work.is_dir():
        return
    from coursekit.batch.pool import stop_leftovers

    left = stop_leftovers(work)
    if left:
        say(f"stopped {len(left)} process(es) that an interrupted earlier run left running")


def cell_timeout(course: Course, options: Options) -> int:
    """``--timeout``, else ``Execute.timeout`` from the course's config, else the default."""
    if options.timeout is not None:
        return options.timeout
    configured = course.app.config.get("Execute", {}).get("timeout")
    return configured if isinstance(configured, int) and configured > 0 else options.limits.timeout


def ensure_master_copy(course: Course, assignment_id: str, scratch: Path, say) -> None:  # noqa: ANN001
    """Record the assignment in the gradebook from its source if it is not there yet."""
    if gradebook.has_assignment(course.db_url, course.course_id, assignment_id):
        return
    from coursekit.release import release

    say(f"{assignment_id} is not in the gradebook yet: recording it from the source first")
    release(course.root, [assignment_id], release_directory=scratch / "release")


def grader_fingerprint(
    course: Course, assignment_id: str, limits: Limits, unsafe: bool = False
) -> str:
    """What the grades depend on besides the submission: a change regrades every student (so
    does grading unconfined, or confined again)."""
    source = course.root / course.app.coursedir.source_directory / assignment_id
    checks = Path(__file__).resolve().parents[1] / "problemsets" / f"{assignment_id}.py"
    config = course.root / "nbgrader_config.py"
    settings: dict = {"limits": asdict(limits)}
    if unsafe:
        settings["sandbox"] = "none"
    return plan.fingerprint([config, checks], [source], settings)


def require_sandbox(options: Options, say: Callable[[str], None]) -> str:
    """Fail closed: the bubblewrap sandbox works here (``jail.check``), or the instructor chose
    ``--unsafe-no-sandbox``. Returns what confines student code, for the log and the summary."""
    if options.unsafe_no_sandbox:
        os.environ[jail.UNSAFE_VARIABLE] = "1"
        say(jail.unconfined_warning())
        return "no sandbox (--unsafe-no-sandbox)"
    os.environ.pop(jail.UNSAFE_VARIABLE, None)
    try:
        confinement = jail.check()
    except jail.SandboxUnavailable as error:
        raise CourseError(
            f"The grading sandbox could not be made ({error}): {jail.INSTALL_HINT}, or pass "
            "--unsafe-no-sandbox to grade unconfined."
        ) from None
    say(f"student code runs in a {confinement}")
    return confinement


def choose_tasks(
    course: Course, options: Options, students: list[str], journal: plan.Journal
) -> tuple[list[Task], int]:
    """The students to grade now (new, changed, or no longer in the course) and how many stay."""
    aid = options.assignment_id
    grader = grader_fingerprint(course, aid, options.limits, options.unsafe_no_sandbox)
    done = journal.load()
    in_db = gradebook.submitted_students(course.db_url, course.course_id, aid)
    autograded = course.root / course.app.coursedir.autograded_directory
    tasks, reused = [], 0
    for sid in students:
        folder = course.submitted / sid / aid
        if not folder.is_dir():
            continue
        key = plan.submission_key(folder, grader)
        graded = (autograded / sid / aid).is_dir()
        if options.force or not plan.is_current(done.get(sid), key, sid in in_db, graded):
            tasks.append(Task(sid, key))
        else:
            reused += 1
    return tasks, reused


def warm_kernels(options: Options) -> bool:
    """Whether the run's kernels fork from a warm zygote: ``--kernels warm`` (the default) on
    the local pool in the sandbox. A Dask task is a fresh interpreter, where a zygote would cost
    more than it saves, and ``--unsafe-no-sandbox`` has no sandbox for a zygote to live in."""
    return options.kernels == "warm" and not options.scheduler and not options.unsafe_no_sandbox


def kernels_text(setup: Setup) -> str:
    if setup.warm_kernels:
        return "warm (forked from each worker's zygote)"
    return "cold (a fresh interpreter each)"


def budget_seconds(master: dict[str, list[dict]], limits: Limits) -> float:
    """Wall-clock budget of one submission: every code cell may use its timeout twice, and more."""
    cells = sum(1 for cells in master.values() for c in cells if c["cell_type"] == "code")
    return 120.0 + 2.0 * limits.timeout * (cells + 4) * max(1, len(master))


def grade(root: Path, options: Options, say: Callable[[str], None] = print) -> Outcome:
    """Run ``course grade`` for the course at ``root``."""
    start = time.monotonic()
    aid = options.assignment_id
    course = load(root, aid)
    sandbox = require_sandbox(options, say)
    options = replace(
        options, limits=replace(options.limits, timeout=cell_timeout(course, options))
    )
    reports = root / "reports" / aid
    reports.mkdir(parents=True, exist_ok=True)
    lock = _lock(reports, aid)
    work = reports / ".work"
    _stop_leftovers(work, say)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ensure_master_copy(course, aid, work, say)
    snapshot = gradebook.snapshot(course.db_url, work / "snapshot.db", course.course_id)
    master = gradebook.master_cells(gradebook.sqlite_url(snapshot), course.course_id, aid)

    students = plan.discover_students(course.submitted)
    journal = plan.Journal(reports / plan.JOURNAL)
    tasks, reused = choose_tasks(course, options, students, journal)
    setup = Setup(
        root=str(root),
        assignment_id=aid,
        course_id=course.course_id,
        snapshot=str(snapshot),
        work=str(work / "local"),
        logs=str(reports / "logs"),
        limits=asdict(options.limits),
        threads=max(1, (os.cpu_count() or 1) // max(1, options.workers or os.cpu_count() or 1)),
        unsafe_no_sandbox=options.unsafe_no_sandbox,
        warm_kernels=warm_kernels(options),
    )
    finished = _run_engine(course, options, setup, tasks, master, journal)
    rows = _finish(course, aid, students, journal)
    from coursekit import report

    parts = _parts(course, aid, master)
    canvas = _canvas(course, aid, rows, parts, reports, options.canvas_assignment_id)
    csv_path, html_path = report.write_report(reports, aid, rows, parts, canvas)
    (reports / SANDBOX_NOTE).write_text(f"student code ran in: {sandbox}\n", encoding="utf-8")
    _export(course, aid)
    shutil.rmtree(work, ignore_errors=True)
    lock.close()
    return Outcome(
        rows,
        finished,
        reused,
        time.monotonic() - start,
        csv_path,
        html_path,
        gradebook.integrity_check(course.db_url),
        options.limits.timeout,
        sandbox,
        canvas.summary() if canvas else "",
        kernels_text(setup),
    )


def _run_engine(course, options, setup, tasks, master, journal) -> int:  # noqa: ANN001
    """Grade the tasks with the chosen engine; merge and journal each result as it comes."""
    import tqdm as progress

    progress.tqdm.monitor_interval = 0  # no monitor thread: the pool forks its workers
    bar = progress.tqdm(
        total=len(tasks),
        desc=f"grading {options.assignment_id}",
        unit="submission",
        disable=not options.progress or not tasks,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    counts = {"done": 0, "problem": 0, "error": 0}
    parallel = len(tasks) if options.scheduler else options.workers or os.cpu_count() or 1

    merger = gradebook.Merger(course.db_url, course.course_id)

    def on_result(result: Result) -> None:
        record = result.record
        if record and record.get("student"):
            merger.apply(record)
        entry = result.to_dict()
        entry.pop("record", None)
        entry["in_gradebook"] = bool(record and record.get("submission"))
        journal.append(entry)
        counts["done"] += 1
        if len(tasks) - counts["done"] < parallel and not counts.get("warm"):
            counts["warm"] = 1  # a core is free from now on: load the report's plotting now
            from coursekit import report

            report.warm_up()
        if result.status in ("problem", "error"):
            counts[result.status] += 1
        bar.set_postfix(problems=counts["problem"], errors=counts["error"], refresh=False)
        bar.update(1)

    budget = budget_seconds(master, options.limits)
    try:
        if options.scheduler:
            from coursekit.batch.dask_runner import run_dask

            run_dask(options.scheduler, setup, tasks, budget, on_result)
        else:
            from coursekit.batch.pool import run_local

            workers = options.workers or os.cpu_count() or 1
            run_local(setup, tasks, workers, budget, on_result, Path(setup.logs))
    except KeyboardInterrupt:
        bar.close()
        print(
            f"stopped after {counts['done']} of {len(tasks)} submission(s); "
            "run the same command again to grade the rest",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
        merger.gb.close()
    return counts["done"]


def _parts(course: Course, aid: str, master: dict[str, list[dict]]) -> dict[str, float]:
    """Graded parts in notebook order, with their points."""
    points = gradebook.assignment_parts(course.db_url, course.course_id, aid)
    single = len(master) == 1
    ordered = [
        c["name"] if single else f"{nb}/{c['name']}" for nb, cells in master.items() for c in cells
    ]
    return {name: points[name] for name in ordered if name in points} | points


def _finish(course: Course, aid: str, students: list[str], journal: plan.Journal) -> list[dict]:
    """One row per student: scores from the gradebook, status and reason from the journal."""
    scores = gradebook.part_scores(course.db_url, course.course_id, aid)
    entries = journal.load()
    rows = []
    for sid in sorted(set(students) | set(scores)):
        entry = entries.get(sid)
        if not (course.submitted / sid / aid).is_dir() and sid not in scores:
            status, reason, seconds = "missing", "no submission for this assignment", None
        elif entry is None:
            status, reason, seconds = "ok", "graded outside course grade", None
        else:
            status, reason, seconds = entry["status"], entry["reason"], entry.get("seconds")
        rows.append(
            {
                "student": sid,
                "scores": scores.get(sid, {}),
                "status": status,
                "reason": reason,
                "seconds": seconds,
            }
        )
    return rows


def _canvas(course, aid, rows, parts, reports, canvas_assignment_id):  # noqa: ANN001, ANN202
    """``reports/<id>/canvas.csv`` (``coursekit.canvas``) when some student has a Canvas user
    id (recorded by ``course collect``); otherwise none, and an old one is removed."""
    from coursekit import canvas

    path = reports / canvas.FILE_NAME
    ids = gradebook.lms_students(course.db_url, course.course_id)
    if not any(row["student"] in ids for row in rows):
        path.unlink(missing_ok=True)
        return None
    awaiting = gradebook.awaiting_manual_grade(course.db_url, course.course_id, aid)
    return canvas.write_gradebook(path, aid, rows, parts, ids, awaiting, canvas_assignment_id)


def _export(course: Course, aid: str) -> Path:
    """nbgrader's own export of this assignment (its configured plugin) to exports/<id>/."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import ExportApp

    dest = course.root / "exports" / aid / "grades.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    app = load_app(ExportApp, course.root, [f"--ExportPlugin.to={dest}"])
    app.init_plugin()
    app.plugin_inst.assignment = [aid]
    with Gradebook(course.db_url, course.course_id) as gb:
        app.plugin_inst.export(gb)
    return dest
