"""Warm grading kernels (issue 12): serial nbgrader, `course grade` cold and warm, in one run.

The same batch as ``bench_grading.py`` (default 20 submissions of the demo set whose notebook
imports torch) from identical copies of one course: serial ``nbgrader autograde``, then
``course grade --workers W`` with cold kernels, then with warm kernels
(``course grade --kernels warm``: each worker forks its kernels from a zygote that imported torch,
``coursekit.batch.zygote``), alternating for ``--rounds`` rounds (medians). Reported: wall time
and CPU seconds (``getrusage`` of waited-for children, the whole process tree) per submission,
the ratios to serial nbgrader, and whether both runs gave every student the same row.

``--stages`` also times where one worker's time goes, per submission, by grading the batch
in-process with a ``worker.Grader`` (warm, then cold) and timing its stages: kernel start (to
the kernel's first reply), the notebook's execution in the kernel, the verdict sandbox
(``grade_cells``), the rest of nbgrader's autograde, feedback, and the worker's own steps
(precheck, gradebook copy and extract, install). Prints Markdown tables for the README and
writes benchmarks/results/grading_warm.json. The machine is shared: compare numbers of one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench_grading import ROOT, demo_course, environment, real_course, timed

RUNS = ("serial", "cold", "warm")


def rows(root: Path, aid: str) -> dict[str, tuple]:
    with open(root / "reports" / aid / "grades.csv", newline="") as f:
        return {r["student"]: (r["total"], r["status"], r["reason"]) for r in csv.DictReader(f)}


def one_round(base: Path, tmp: Path, aid: str, workers: int) -> dict:
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    grade = [sys.executable, "-m", "coursekit.cli", "grade", aid, "--workers", str(workers)]
    grade.append("--no-progress")
    out = {}
    for name in RUNS:
        root = tmp / name
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(base, root)
        env = environment()
        command = [nbgrader, "autograde", aid] if name == "serial" else [*grade, "--kernels", name]
        seconds, cpu, _ = timed(command, root, env)
        out[name] = {"s": seconds, "cpu": cpu, "load": os.getloadavg()[0]}
        if name != "serial":
            out[name]["rows"] = rows(root, aid)
    out["same_rows"] = out["cold"].pop("rows") == out["warm"].pop("rows")
    return out


# ----------------------------------------------------------------------------- stages


def stage_profile(base: Path, tmp: Path, aid: str, warm: bool) -> dict[str, float]:
    """Seconds per submission in each stage of one in-process worker grading the batch."""
    from nbclient import NotebookClient
    from nbgrader.converters import Autograde, GenerateFeedback

    from coursekit import jail
    from coursekit.batch import gradebook, precheck, worker
    from coursekit.verdicts import grader

    root = tmp / ("stages-warm" if warm else "stages-cold")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(base, root)
    spent: dict[str, float] = defaultdict(float)

    def timer(owner: object, name: str, stage: str, coroutine: bool = False) -> None:
        original = getattr(owner, name)
        if coroutine:

            async def timed_async(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    spent[stage] += time.perf_counter() - start

            setattr(owner, name, timed_async)
            return

        def timed_call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - start

        setattr(owner, name, timed_call)

    # nbconvert's ExecutePreprocessor calls nbclient's sync wrappers: time those.
    timer(NotebookClient, "start_new_kernel", "kernel start (process)")
    timer(NotebookClient, "start_new_kernel_client", "kernel start (first reply)")
    timer(NotebookClient, "execute_cell", "cells in the kernel")
    timer(NotebookClient, "_cleanup_kernel", "kernel shutdown")
    timer(grader, "grade_cells", "verdict sandbox (grade_cells; none for the demo set)")
    timer(Autograde, "start", "nbgrader autograde (all of it)")
    timer(GenerateFeedback, "start", "nbgrader generate_feedback")
    timer(precheck, "precheck", "worker: precheck")
    timer(gradebook, "extract_record", "worker: gradebook extract")
    timer(worker.Grader, "_install", "worker: install")
    cwd = os.getcwd()
    try:
        course_id, snapshot = _snapshot(root, aid, tmp)
        setup = worker.Setup(
            root=str(root),
            assignment_id=aid,
            course_id=course_id,
            snapshot=str(snapshot),
            work=str(root / "reports" / aid / ".work" / "local"),
            logs=str(root / "reports" / aid / "logs"),
            warm_kernels=warm,
        )
        one = worker.Grader(setup)
        students = sorted(p.name for p in (root / "submitted").iterdir())
        start = time.perf_counter()
        statuses = [one.grade(worker.Task(s, s)).status for s in students]
        spent["total per submission"] = time.perf_counter() - start
        from coursekit.batch import zygote

        zygote.close_zygote()
        jail.PRIVATE_FOLDERS.clear()
    finally:
        os.chdir(cwd)
    n = len(students)
    result = {stage: round(seconds / n, 3) for stage, seconds in spent.items()}
    result["statuses"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    return result


def _snapshot(root: Path, aid: str, tmp: Path) -> tuple[str, Path]:
    """The course id and the gradebook snapshot ``course grade`` takes (master copy released)."""
    from coursekit.batch import gradebook
    from coursekit.batch.run import ensure_master_copy, load

    course = load(root, aid)
    work = root / "reports" / aid / ".work"
    work.mkdir(parents=True, exist_ok=True)
    ensure_master_copy(course, aid, work, lambda _line: None)
    path = gradebook.snapshot(course.db_url, tmp / f"snapshot-{root.name}.db", course.course_id)
    return course.course_id, path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--course", choices=("demo", "real"), default="demo")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--stages", action="store_true", help="also time each stage")
    parser.add_argument("--stages-only", action="store_true", help="only time each stage")
    args = parser.parse_args()
    n = args.submissions
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        base = Path(tmp) / "base"
        aid = (demo_course if args.course == "demo" else real_course)(base, n)
        stages = {}
        if args.stages or args.stages_only:
            stages = {
                "warm": stage_profile(base, Path(tmp), aid, warm=True),
                "cold": stage_profile(base, Path(tmp), aid, warm=False),
            }
        if args.stages_only:
            print(json.dumps(stages, indent=1))
            return
        rounds = [one_round(base, Path(tmp), aid, args.workers) for _ in range(args.rounds)]

    def median(run: str, key: str) -> float:
        return statistics.median(r[run][key] for r in rounds)

    serial, cold, warm = (median(k, "s") for k in RUNS)
    result = {
        "course": args.course,
        "assignment": aid,
        "submissions": n,
        "workers": args.workers,
        "rounds": args.rounds,
        "load_1min_each_run": [{k: round(r[k]["load"], 1) for k in RUNS}
                               for r in rounds],  # fmt: skip
        "serial_nbgrader_s": round(serial, 2),
        "course_grade_cold_s": round(cold, 2),
        "course_grade_warm_s": round(warm, 2),
        "ratio_cold": round(serial / cold, 2),
        "ratio_warm": round(serial / warm, 2),
        "ratio_warm_each_round": [round(r["serial"]["s"] / r["warm"]["s"], 2) for r in rounds],
        "cpu_per_submission_s": {k: round(median(k, "cpu") / n, 3) for k in RUNS},
        "same_rows_cold_and_warm": all(r["same_rows"] for r in rounds),
        "stages_per_submission_s": stages,
    }  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "grading_warm.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    cpu = result["cpu_per_submission_s"]
    print("| run | wall | per submission | CPU per submission | ratio to serial |")
    print("|---|---:|---:|---:|---:|")
    print(f"| serial nbgrader | {serial:.1f} s | {serial / n:.2f} s | {cpu['serial']:.2f} s | 1 |")
    for name, seconds in (("cold", cold), ("warm", warm)):
        print(
            f"| course grade --workers {args.workers}, {name} kernels | {seconds:.1f} s | "
            f"{seconds / n:.2f} s | {cpu[name]:.2f} s | {serial / seconds:.2f}x |"
        )
    if stages:
        print("\n| stage (s per submission, one worker) | warm | cold |")
        print("|---|---:|---:|")
        for stage in stages["cold"]:
            if stage != "statuses":
                warm_s, cold_s = stages["warm"].get(stage, 0), stages["cold"][stage]
                print(f"| {stage} | {warm_s:.3f} | {cold_s:.3f} |")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
