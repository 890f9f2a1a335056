"""Grading on a Dask cluster of real processes, the cost of each stage, and 10,000 on paper.

1. **Throughput**, in one run: a class of ``--submissions`` (200) ps1_power_method submissions
   (the repository's nbgrader_config.py, so the whole trusted pipeline: sandboxed kernel, verdict
   sandbox, feedback; answers mixed: the reference, an unnormalised power method (0 points), the
   unmodified release), graded from identical copies by ``course grade --workers 2`` and by
   ``course grade --scheduler`` on a cluster started from the command line as an instructor
   would (``dask scheduler``, then two ``dask worker --nworkers 1 --nthreads 1`` with the course
   at the same path). Both runs must give the same grades.csv (but the seconds).
2. **Stages**, per submission: ``--stage-submissions`` (12) of the same class graded one after
   the other in this process by the workers' own ``Grader``, with timers around nbclient's kernel
   start (process and client ready), the notebook's execution, the verdict sandbox
   (``grade_cells``, in a thread while the kernel runs) and the wait for it afterwards, feedback,
   kernel shutdown; and what a Dask task adds: a fresh ``python -m coursekit.batch.dask_runner``
   (interpreter, imports, nbgrader's configuration) per submission.
3. **Merges**: ``--merges`` (2000) records (those of step 2, under new student ids) written one
   after the other into the course's SQLite gradebook by the one writer ``course grade`` uses
   (``gradebook.Merger``, plus its journal line): merges per second, at the start and at the end
   (the gradebook grows).
4. **On paper**: hours to grade 10,000 submissions on 1, 10 and 100 workers (one core each, as
   one machine per worker) with the one SQLite writer: N x max(seconds per submission of one
   worker / W, writer seconds per result), where a long-lived worker's (the local pool's) seconds
   per submission are the stages' total; and the number of workers past which the writer is the
   bottleneck. Steps 2 to 4 run first and are written out before step 1. Then
   the same for Dask workers, whose seconds per submission are the stages' total times step 1's
   Dask / local ratio (a fresh process per task also starts the verdict sandbox and the first
   kernel cold, which the stages of a long-lived worker do not pay).

The machine is shared: the numbers of one run are compared with each other.
Usage: ``python benchmarks/bench_dask.py [--submissions 200] [--stage-submissions 12]
[--merges 2000] [--workers 2] [--throughput-only]`` (the last: step 1 again, on its own).
Prints the README tables; writes benchmarks/results/dask.json.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from bench_grading import ROOT, environment, real_course, timed

from coursekit.batch.pool import stop_process_groups

AID = "ps1_power_method"
COURSE_ID = "pytorch-from-scratch"
UNNORMALISED = ("v = w / torch.linalg.vector_norm(w)", "v = w")  # a wrong answer (overflows)
TARGET = 10_000
SCALE = (1, 10, 100)


def build_class(base: Path, n: int) -> None:
    """ps1: the reference answer, the unmodified release (1 in 4), and every fourth reference
    answer made wrong (no normalisation: overflows on some hidden cases)."""
    real_course(base, n, AID)
    for i in range(1, n, 4):
        path = base / "submitted" / f"student{i:03d}" / AID / f"{AID}.ipynb"
        text = path.read_text()
        assert UNNORMALISED[0] in text, path
        path.write_text(text.replace(*UNNORMALISED))


# ----------------------------------------------------------------------------- 1. throughput


@contextlib.contextmanager
def command_line_cluster(folder: Path, workers: int, env: dict):
    """``dask scheduler`` and ``workers`` x ``dask worker``, as typed on separate machines."""
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = folder / "scheduler.json"
    commands = [["scheduler", "--host", "127.0.0.1", "--port", "0"]] + [
        ["worker", "--nworkers", "1", "--nthreads", "1", "--name", f"w{i}"] for i in range(workers)
    ]
    procs = []
    try:
        for i, command in enumerate(commands):
            home = folder / f"{command[0]}-{i}"
            home.mkdir(parents=True)
            extra = ["--no-dashboard", "--scheduler-file", str(scheduler_file)]
            if command[0] == "worker":
                extra += ["--local-directory", str(home)]
            with open(home / "log.txt", "wb") as log:
                procs.append(
                    subprocess.Popen(
                        [dask, *command, *extra],
                        cwd=home,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            while i == 0 and not scheduler_file.exists():
                time.sleep(0.2)
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield json.loads(scheduler_file.read_text())["address"]
    finally:
        stop_process_groups(procs, grace=20)


def grades(root: Path) -> list[dict]:
    with open(root / "reports" / AID / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


def throughput(base: Path, tmp: Path, n: int, workers: int, env: dict) -> dict:
    grade = [sys.executable, "-m", "coursekit.cli", "grade", AID, "--no-progress"]
    local, dask = tmp / "local", tmp / "dask"
    for root in (local, dask):
        subprocess.run(["cp", "-a", str(base), str(root)], check=True)
    local_s, local_cpu, _ = timed([*grade, "--workers", str(workers)], local, env)
    rerun_s, _, _ = timed([*grade, "--workers", str(workers)], local, env)
    load_local = os.getloadavg()[0]
    with command_line_cluster(tmp / "cluster", workers, env) as address:
        dask_s, dask_cpu, _ = timed([*grade, "--scheduler", address], dask, env)
    load_dask = os.getloadavg()[0]
    rows = {"local": grades(local), "dask": grades(dask)}
    same = [{k: v for k, v in r.items() if k != "seconds"} for r in rows["local"]] == [
        {k: v for k, v in r.items() if k != "seconds"} for r in rows["dask"]
    ]
    totals = [r["total"] for r in rows["dask"]]
    return {
        "local_s": round(local_s, 1),
        "dask_s": round(dask_s, 1),
        "dask_over_local": round(dask_s / local_s, 2),
        "local_per_submission_worker_s": round(local_s * workers / n, 3),
        "dask_per_submission_worker_s": round(dask_s * workers / n, 3),
        "local_cpu_s": round(local_cpu, 1),
        "rerun_nothing_to_grade_s": round(rerun_s, 2),
        "same_grades_csv": same,
        "totals": {t: totals.count(t) for t in sorted(set(totals))},
        "median_seconds_in_worker": {
            kind: statistics.median(float(r["seconds"]) for r in rows[kind] if r["seconds"])
            for kind in rows
        },
        "load_after": {"local": round(load_local, 2), "dask": round(load_dask, 2)},
    }


# ----------------------------------------------------------------------------- 2. stages


TIMES: dict[str, float] = defaultdict(float)


def time_into(owner: object, name: str, stage: str) -> None:
    """Add the seconds every call of ``owner.name`` takes to ``TIMES[stage]``."""
    original = getattr(owner, name)

    def timed_call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[stage] += time.perf_counter() - start

    setattr(owner, name, timed_call)


def stages(base: Path, tmp: Path, n: int, env: dict) -> tuple[dict, list[dict]]:
    """Grade ``n`` students here with the workers' Grader, timing each stage; their records."""
    from nbclient.client import NotebookClient

    from coursekit.batch import gradebook
    from coursekit.batch.limits import Limits
    from coursekit.batch.worker import Grader, Setup, Task
    from coursekit.verdicts import grader, nbgrader_glue

    root = tmp / "stages"
    subprocess.run(["cp", "-a", str(base), str(root)], check=True)
    snapshot = gradebook.snapshot(
        gradebook.sqlite_url(root / "gradebook.db"), tmp / "s.db", COURSE_ID
    )
    setup = Setup(str(root), AID, COURSE_ID, str(snapshot), str(tmp / "work"), str(tmp / "logs"),
                  asdict(Limits(timeout=20)), threads=1)  # fmt: skip
    for owner, name, stage in [
        (NotebookClient, "start_new_kernel", "kernel start"),
        (NotebookClient, "start_new_kernel_client", "kernel start"),
        (NotebookClient, "_cleanup_kernel", "kernel shutdown"),
        (nbgrader_glue.SafeExecute, "preprocess", "execute"),
        (grader, "grade_cells", "verdicts (beside the kernel)"),
        (nbgrader_glue.TrustedVerdicts, "preprocess", "waiting for verdicts"),
        (Grader, "grade", "total"),
    ]:
        time_into(owner, name, stage)
    students = [f"student{i:03d}" for i in range(n)]
    cwd = Path.cwd()
    results, per = [], []
    try:
        worker = Grader(setup)  # loads nbgrader's configuration (once per pool worker)
        original_run = worker._run
        for sid in students:
            TIMES.clear()

            def run(converter, original=original_run):  # noqa: ANN001, ANN202
                start = time.perf_counter()
                try:
                    return original(converter)
                finally:
                    TIMES[converter.__name__.lower()] += time.perf_counter() - start

            worker._run = run
            results.append(worker.grade(Task(sid, "bench")))
            per.append(dict(TIMES))
    finally:
        os.chdir(cwd)
    assert all(r.status != "error" for r in results), [r.reason for r in results]
    median = {stage: statistics.median(p.get(stage, 0.0) for p in per) for stage in per[0]}
    median["execution (execute minus kernel start and shutdown)"] = statistics.median(
        p["execute"] - p["kernel start"] - p.get("kernel shutdown", 0.0) for p in per
    )
    median["nbgrader and the rest (total minus autograde and feedback)"] = statistics.median(
        p["total"] - p["autograde"] - p.get("generatefeedback", 0.0) for p in per
    )
    median["fresh process per Dask task"] = fresh_process(root, setup, students[:3], tmp, env)
    return {k: round(v, 3) for k, v in median.items()}, [r.record for r in results]


def fresh_process(root: Path, setup: object, students: list[str], tmp: Path, env: dict) -> float:
    """What a Dask task adds to grading: the seconds of ``python -m coursekit.batch.dask_runner``
    beyond the grading it reports (median over ``students``; cold starts inside the grading, such
    as the verdict sandbox's, are not in it: step 1's ratio has them)."""
    extra = []
    for sid in students:
        paths = [tmp / f"{sid}-{name}.json" for name in ("setup", "task", "result")]
        paths[0].write_text(json.dumps(asdict(setup) | {"work": str(tmp / "fresh" / sid)}))
        paths[1].write_text(json.dumps({"student_id": sid, "key": "bench"}))
        command = [sys.executable, "-m", "coursekit.batch.dask_runner", str(os.getpid())]
        start = time.perf_counter()
        subprocess.run([*command, *map(str, paths)], cwd=root, env=env, check=True)
        wall = time.perf_counter() - start
        extra.append(wall - json.loads(paths[2].read_text())["seconds"])
    return statistics.median(extra)


# ----------------------------------------------------------------------------- 3. merges


def merges(base: Path, tmp: Path, records: list[dict], m: int) -> dict:
    """Write ``m`` records (new student ids) into a copy of the course gradebook, one writer."""
    from coursekit.batch import gradebook, plan

    db = tmp / "merge-gradebook.db"
    db.write_bytes((base / "gradebook.db").read_bytes())
    journal = plan.Journal(tmp / "journal.jsonl")
    seconds, journal_s = [], []
    with gradebook.Merger(gradebook.sqlite_url(db), COURSE_ID) as merger:
        for j in range(m):
            record = copy.deepcopy(records[j % len(records)])
            record["student"]["id"] = sid = f"m{j:05d}"
            start = time.perf_counter()
            merger.apply(record)
            seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            journal.append({"student_id": sid, "key": "bench", "status": "ok", "reason": ""})
            journal_s.append(time.perf_counter() - start)
    assert len(gradebook.submitted_students(gradebook.sqlite_url(db), COURSE_ID, AID)) == m
    tenth = max(1, m // 10)
    return {
        "merges": m,
        "merge_s_median": round(statistics.median(seconds), 4),
        "merges_per_s": round(m / sum(seconds), 1),
        "merges_per_s_first_tenth": round(tenth / sum(seconds[:tenth]), 1),
        "merges_per_s_last_tenth": round(tenth / sum(seconds[-tenth:]), 1),
        "journal_line_s_median": round(statistics.median(journal_s), 5),
        "writer_s_per_result": round((sum(seconds[-tenth:]) + sum(journal_s[-tenth:])) / tenth, 4),
    }


# ----------------------------------------------------------------------------- 4. on paper


def extrapolate(per_submission: float, writer: float) -> dict:
    """Hours for ``TARGET`` submissions on each worker count of ``SCALE``: the workers grade
    ``per_submission`` seconds each (one core each), the one writer takes ``writer`` per result."""
    rows = {}
    for workers in SCALE:
        grading, writing = TARGET * per_submission / workers, TARGET * writer
        rows[workers] = {
            "hours": round(max(grading, writing) / 3600, 2),
            "bound": "writer" if writing > grading else "workers",
        }
    return {
        "per_submission_s": round(per_submission, 3),
        "writer_s": writer,
        "rows": rows,
        "writer_bound_from_workers": round(per_submission / writer),
    }


def dask_workers(result: dict) -> None:
    """The table on paper again, a worker's seconds per submission being a pool worker's (the
    stages' total) times the Dask / local ratio of step 1: everything a fresh process per task
    costs, cold starts inside the grading (kernel, verdict sandbox) included."""
    ratio = result["throughput"]["dask_over_local"]
    per_submission = result["stages_median_s"]["total"] * ratio
    result["on_paper_dask"] = extrapolate(per_submission, result["writer"]["writer_s_per_result"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--stage-submissions", type=int, default=12)
    parser.add_argument("--merges", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--throughput-only", action="store_true", help="step 1 alone; keep dask.json's others"
    )
    args = parser.parse_args()
    n, env = args.submissions, environment()
    out = ROOT / "benchmarks" / "results" / "dask.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"submissions": n, "workers": args.workers, "cpus": os.cpu_count()}
    if args.throughput_only:
        result = json.loads(out.read_text()) | result
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as name:
        tmp = Path(name)
        base = tmp / "base"
        build_class(base, n if args.throughput_only else max(n, args.stage_submissions))
        if args.throughput_only:
            result["throughput"] = throughput(base, tmp, n, args.workers, env)
            result["load_average_throughput"] = round(os.getloadavg()[0], 2)
            dask_workers(result)
            out.write_text(json.dumps(result, indent=1) + "\n")
            report(result)
            return
        # stages and merges first (minutes): the table on paper does not wait for step 1
        stage, records = stages(base, tmp, args.stage_submissions, env)
        result["stages_median_s"] = stage
        result["writer"] = merges(base, tmp, records, args.merges)
        result["load_average"] = [round(os.getloadavg()[0], 2)]
        result["on_paper"] = extrapolate(stage["total"], result["writer"]["writer_s_per_result"])
        out.write_text(json.dumps(result, indent=1) + "\n")
        report(result)
        result["throughput"] = throughput(base, tmp, n, args.workers, env)
        result["load_average"].append(round(os.getloadavg()[0], 2))
        dask_workers(result)
    out.write_text(json.dumps(result, indent=1) + "\n")
    report(result)


def report(result: dict) -> None:
    if "throughput" in result:
        runs, n, w = result["throughput"], result["submissions"], result["workers"]
        print(f"| {n} x {AID} | course grade --workers {w} | Dask, {w} `dask worker` processes |"
              " Dask / local | same grades.csv |\n|---|---:|---:|---:|:---:|")  # fmt: skip
        print(
            f"| wall | {runs['local_s']:.1f} s | {runs['dask_s']:.1f} s | "
            f"{runs['dask_over_local']:.2f}x | {'yes' if runs['same_grades_csv'] else 'NO'} |"
        )
        print(f"| per submission, one worker | {runs['local_per_submission_worker_s']:.2f} s | "
              f"{runs['dask_per_submission_worker_s']:.2f} s | | |\n")  # fmt: skip
    print("| stage (median per submission) | seconds |\n|---|---:|")
    for stage, seconds in result["stages_median_s"].items():
        print(f"| {stage} | {seconds:.3f} |")
    writer = result["writer"]
    print(f"| gradebook merge (SQLite, one writer; {writer['merges']} merges) | "
          f"{writer['merge_s_median']:.4f} |\n")  # fmt: skip
    print(f"SQLite merges per second: {writer['merges_per_s']} overall, "
          f"{writer['merges_per_s_first_tenth']} first tenth, "
          f"{writer['merges_per_s_last_tenth']} last tenth\n")  # fmt: skip
    paper = result["on_paper"]
    print(f"| {TARGET:,} submissions, long-lived workers | hours | bound by |\n|---|---:|---|")
    for workers, row in paper["rows"].items():
        print(f"| {workers} worker(s) | {row['hours']:.2f} | {row['bound']} |")
    print(
        f"\nthe single writer is the bottleneck from {paper['writer_bound_from_workers']} workers"
    )
    if "on_paper_dask" in result:
        dask = result["on_paper_dask"]
        hours = [f"{w}: {r['hours']:.2f} h ({r['bound']})" for w, r in dask["rows"].items()]
        bound = dask["writer_bound_from_workers"]
        print(f"\nDask workers ({dask['per_submission_s']:.1f} s per submission): "
              f"{', '.join(hours)}; writer-bound from {bound} workers")  # fmt: skip
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
