"""Grade one student's submission with nbgrader's own converters, in a private scratch folder.

A ``Grader`` lives in one worker process and grades one student at a time (the local pool and
the Dask tasks hand out whole students, so two workers never touch the same student). For each
student it runs, in-process, exactly what ``nbgrader autograde ID --student S`` and
``nbgrader generate_feedback ID --student S`` run — nbgrader's ``Autograde`` and
``GenerateFeedback`` converters, configured by the course's ``nbgrader_config.py`` (loaded the
way nbgrader's own ``AutogradeApp`` loads it) — with four things changed:

* ``db_url``: a private copy of the run's gradebook snapshot (see ``gradebook``);
* ``autograded_directory`` and ``feedback_directory``: a scratch folder, moved into place only
  when the student is done, so a killed run never leaves half a student behind;
* ``Execute.kernel_name``: the limited kernel (``limits``), ``Execute.timeout``: ``--timeout``;
* nbgrader's log goes to ``reports/ID/logs/<student>.log``, not to the terminal.

With warm kernels (``--kernels warm``, the default; see ``zygote``) the autograded folder is the
worker's *stage* instead, ``kernels-<pid>/autograded/`` of the work folder: it lives as long as
the worker (its zygote's sandbox binds it) and holds one student at a time, emptied before and
after each.

The result is plain data (``Result``): status and one-line reason, timing, and the gradebook
rows to merge (``gradebook.extract_record``). ``python -m coursekit.batch.worker SETUP TASK OUT``
grades one student in a fresh process (the Dask path).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coursekit.batch import feedback_html, gradebook, precheck, reasons, zygote
from coursekit.batch.course import load_app, put_tools_on_path
from coursekit.batch.limited_kernel import FALLBACK_EVENTS
from coursekit.batch.limits import Limits, nbgrader_overrides, write_kernelspec
from coursekit.jail import UNSAFE_VARIABLE


@dataclass(frozen=True)
class Setup:
    """What every worker of a run shares (plain data: it crosses process and machine borders)."""

    root: str
    assignment_id: str
    course_id: str
    snapshot: str
    work: str
    logs: str
    limits: dict = field(default_factory=dict)
    threads: int = 1
    unsafe_no_sandbox: bool = False  # --unsafe-no-sandbox: kernels and verdicts unconfined
    warm_kernels: bool = False  # --kernels warm: kernels forked from this worker's zygote


@dataclass(frozen=True)
class Task:
    """One student to grade; ``key`` is the content hash the run will journal."""

    student_id: str
    key: str
    attempt: int = 1


@dataclass
class Result:
    """The outcome for one student (plain data)."""

    student_id: str
    key: str
    status: str
    reason: str
    seconds: float
    graded: bool
    final: bool = True
    attempt: int = 1
    record: dict | None = None
    findings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def preload(setup: Setup) -> bool:
    """Import, in the parent before it forks the workers, what each worker would otherwise
    import for itself: the assignment's problem set (torch, NumPy) and the trusted grader,
    about 2 s of CPU per worker. Only for workers of one thread each (``Setup.threads``: a
    worker per core), with torch's thread settings at 1 while it is imported: torch starts its
    OpenMP pool when imported with more, and a fork keeps no thread but the one that forks.
    Nothing is done if torch is imported already. True if the problem set was imported."""
    if setup.threads != 1 or "torch" in sys.modules:
        return False
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        from coursekit.problemsets import load

        load(setup.assignment_id)
        import coursekit.verdicts.grader  # noqa: F401
    except Exception:  # noqa: BLE001 - no problem set, or a broken one: each worker reports it
        return False
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return True


def safe_name(student_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in student_id) or "_"


def failed_result(task: Task, reason: str, seconds: float, final: bool = False) -> Result:
    """A row for a student whose grading process itself failed (not the student's fault)."""
    return Result(task.student_id, task.key, "error", reason, seconds, False, final, task.attempt)


class Grader:
    """nbgrader, loaded once, grading one student after another."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.limits = Limits(**setup.limits)
        self.root = Path(setup.root)
        self.work = Path(setup.work)
        self.work.mkdir(parents=True, exist_ok=True)
        jupyter = write_kernelspec(self.work / "jupyter", self.limits)
        paths = [str(jupyter), os.environ.get("JUPYTER_PATH", "")]
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in paths if p)
        for name in THREAD_VARIABLES:
            os.environ[name] = str(setup.threads)
        os.environ["PYTHONHASHSEED"] = os.environ.get("PYTHONHASHSEED", "0")
        if setup.unsafe_no_sandbox:  # a Dask worker does not inherit the command's environment
            os.environ[UNSAFE_VARIABLE] = "1"
        else:
            os.environ.pop(UNSAFE_VARIABLE, None)
        os.chdir(self.root)
        put_tools_on_path()
        from nbgrader.apps import AutogradeApp

        argv = [setup.assignment_id, *nbgrader_overrides(self.limits)]
        # the run's choice, whatever the course's config says (the summary reports it)
        argv.append(f"--SafeExecute.unsafe_no_sandbox={setup.unsafe_no_sandbox}")
        self.app = load_app(AutogradeApp, self.root, argv, level=logging.INFO)
        feedback_html.install(self.app.config)  # templates compiled once per worker
        url = gradebook.sqlite_url(Path(setup.snapshot))
        self.master = gradebook.master_cells(url, setup.course_id, setup.assignment_id)
        self.stage = None  # warm kernels: the autograded folder the zygote's sandbox binds
        # the run's choice, for this worker's kernel launches (jail reads it when it starts one)
        os.environ[zygote.WARM_VARIABLE] = "1" if setup.warm_kernels else "0"
        source = self.root / self.app.coursedir.source_directory / setup.assignment_id
        os.environ[zygote.PRELOAD_VARIABLE] = zygote.preload_for(source)
        from coursekit.verdicts import sandbox  # the verdicts' zygote: the same choice

        os.environ[sandbox.PRELOAD_VARIABLE] = zygote.preload_for(source, sandbox.PRELOAD_IF_USED)
        if setup.warm_kernels and not setup.unsafe_no_sandbox:
            self.stage = self.work / f"kernels-{os.getpid()}" / zygote.STAGE_NAME
            self.stage.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ one student

    def grade(self, task: Task) -> Result:
        """Grade one student; never raises (a failure becomes an ``error`` row)."""
        start = time.monotonic()
        try:
            return self._grade(task, start)
        except Exception as error:  # noqa: BLE001 - the batch never aborts
            message = f"grading failed: {type(error).__name__}: {error}"
            return failed_result(task, message[:300], time.monotonic() - start)

    def _grade(self, task: Task, start: float) -> Result:
        setup, sid, aid = self.setup, task.student_id, self.setup.assignment_id
        scratch = self.work / "students" / safe_name(sid)
        shutil.rmtree(scratch, ignore_errors=True)
        autograded = self.stage if self.stage is not None else scratch / "autograded"
        if self.stage is not None:
            _empty(self.stage)
        events = scratch / "events"
        events.mkdir(parents=True)
        events.chmod(0o700)
        db = scratch / "gradebook.db"
        shutil.copyfile(setup.snapshot, db)
        url = gradebook.sqlite_url(db)
        submitted = self.root / "submitted" / sid / aid
        findings = precheck.precheck(submitted, self.master)

        coursedir = self.app.coursedir
        coursedir.student_id = sid
        coursedir.assignment_id = aid
        coursedir.db_url = url
        coursedir.autograded_directory = str(autograded)
        coursedir.feedback_directory = str(scratch / "feedback")
        os.environ["COURSEKIT_KERNEL_EVENTS"] = str(events)
        from nbgrader.converters import Autograde, GenerateFeedback

        graded, log = self._run(Autograde)
        jailed_events = autograded / sid / aid / FALLBACK_EVENTS
        happened = reasons.read_events(events) + reasons.read_events(jailed_events)
        shutil.rmtree(jailed_events, ignore_errors=True)  # if the events folder was unwritable
        self._stop_sandbox(happened)
        forked = sum(1 for e in happened if e["kind"] == "start" and e.get("forked"))
        if forked:
            log += f"\n[INFO] coursekit: {forked} kernel(s) forked from the warm zygote\n"
        if graded:
            fed, feedback_log = self._run(GenerateFeedback)
            log += "\n--- generate_feedback ---\n" + feedback_log
            if not fed:
                findings.append(precheck.Finding("feedback", "feedback could not be generated"))

        outputs = []
        for name in self.master:
            path = autograded / sid / aid / f"{name}.ipynb"
            outputs += reasons.notebook_findings(path, self.limits.timeout)
        early = [f for f in outputs if f.kind == "kernel_stopped"]
        outputs = [f for f in outputs if f.kind != "kernel_stopped"]
        if early:  # the course's Execute went on without the kernel: say how it died
            findings.append(reasons.kernel_death(happened, log, f"{early[0].message}", graded))
        elif graded and (death := reasons.kernel_death(happened, log, graded=True)):
            findings.append(death)
        findings += outputs
        findings += reasons.event_findings(happened, {f.kind for f in outputs})
        if not graded:
            death = reasons.kernel_death(happened, log)
            if death is not None:
                findings.append(death)
            elif not any(f.fatal for f in findings):
                findings.append(reasons.failure_finding(log, findings))
        record = gradebook.extract_record(url, setup.course_id, aid, sid)
        findings = [reasons.with_effect(f, record) for f in findings]
        status, reason = reasons.summarize(findings, graded)
        self._install(scratch, autograded, sid, aid, graded)
        Path(setup.logs).mkdir(parents=True, exist_ok=True)
        (Path(setup.logs) / f"{safe_name(sid)}.log").write_text(log, encoding="utf-8")
        shutil.rmtree(scratch, ignore_errors=True)
        if self.stage is not None:
            _empty(self.stage)
        return Result(
            sid,
            task.key,
            status,
            reason,
            round(time.monotonic() - start, 3),
            graded,
            attempt=task.attempt,
            record=record,
            findings=[asdict(f) for f in findings],
        )

    def _run(self, converter_class: type) -> tuple[bool, str]:
        """Run one nbgrader converter for the current student; (success, its log)."""
        from nbgrader.utils import capture_log

        converter = converter_class(coursedir=self.app.coursedir, parent=self.app)
        converter.force = True
        if hasattr(converter, "create_student"):
            converter.create_student = True
        outcome = capture_log(converter)
        log = outcome.get("log", "") + ("\n" + outcome["error"] if "error" in outcome else "")
        return bool(outcome["success"]), log

    def _stop_sandbox(self, events: list[dict]) -> None:
        """Kill whatever the student's kernels left running (every process of their users) and
        remove their private folders (a kernel killed outright cannot remove its own)."""
        starts = [e for e in events if e["kind"] == "start"]
        uids = {e["uid"] for e in starts if isinstance(e.get("uid"), int)}
        if os.geteuid() == 0 and uids:
            import psutil

            for proc in psutil.process_iter(["uids"]):
                ids = proc.info["uids"]
                if ids is not None and ids.real in uids:
                    try:
                        proc.kill()  # no waiting: what is left is a zombie for init to reap
                    except psutil.Error:
                        pass
        for start in starts:
            private = start.get("private")
            if isinstance(private, str) and Path(private).name.startswith("coursekit-kernel-"):
                shutil.rmtree(private, ignore_errors=True)

    def _install(self, scratch: Path, autograded: Path, sid: str, aid: str, graded: bool) -> None:
        """Move the student's autograded and feedback folders into the course (replacing)."""
        for step in ("autograded", "feedback"):
            src = (autograded if step == "autograded" else scratch / step) / sid / aid
            dest = self.root / step / sid / aid
            if os.geteuid() == 0 and src.exists():
                _give_back(src)
            if src.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                old = dest.with_name(f".{aid}.old-{os.getpid()}")
                if dest.exists():
                    dest.rename(old)
                shutil.move(str(src), str(dest))
                shutil.rmtree(old, ignore_errors=True)
            elif step == "autograded" and not graded and dest.exists():
                shutil.rmtree(dest)  # as nbgrader does when grading fails
            elif step == "feedback" and dest.exists():
                shutil.rmtree(dest)  # feedback of an older submission would mislead


def _empty(folder: Path) -> None:
    """Remove what a folder holds, not the folder (a sandbox binds it)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _give_back(folder: Path) -> None:
    """Files the sandbox user created go back to us."""
    for path in [folder, *folder.rglob("*")]:
        try:
            if path.lstat().st_uid != os.getuid():
                os.lchown(path, os.getuid(), os.getgid())
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    """``python -m coursekit.batch.worker SETUP.json TASK.json OUT.json``: one student."""
    setup_path, task_path, out_path = argv if argv is not None else sys.argv[1:]
    setup = Setup(**json.loads(Path(setup_path).read_text()))
    task = Task(**json.loads(Path(task_path).read_text()))
    result = Grader(setup).grade(task)
    Path(out_path).write_text(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
