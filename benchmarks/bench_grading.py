"""Grading speed: `course grade --workers 2` against serial `nbgrader autograde`, in one run.

Both grade the same batch (default 20 submissions of the demo problem set whose notebook imports
torch, ``coursekit.batch.democourse``; ``--course real`` takes ``ps1_power_method`` with the
repository's nbgrader_config.py instead) from identical copies of one course, one after the
other. Reported: the ratio of the two wall times, the cost per submission, the peak memory of
each worker (the worker process alone, and with the kernel under it), and the floor: starting a
plain kernel and running ``import torch`` in it (median of a few), which every submission pays;
on W workers the batch cannot take less than N x floor / W. The JSON also has the CPU time of
each run's process tree (``getrusage`` of waited-for children: a lower bound when kernels are
killed rather than shut down, as the course's config does).

Serial nbgrader runs as instructors run it (its default kernel, no limits). `course grade` also
generates feedback, exports and writes the report, so the run also times serial
``nbgrader generate_feedback`` and ``nbgrader export`` for a same-outputs ratio. The machine is
shared: run it when it is quiet, and compare the numbers of one run with each other.
Usage: ``python benchmarks/bench_grading.py [--submissions N] [--workers W] [--course demo|real]
[--rounds R]`` (R serial/parallel pairs, alternating; medians reported).
Prints a Markdown table for the README and writes benchmarks/results/grading.json.

``--course bad`` measures the bad class instead (issue 12: a looping submission must cost the
time limit once): ``course grade ps1_power_method --timeout T --workers 1`` on a course holding
one submission, for each of: the reference answer (the control), an answer cell that defines
``power_method`` and then loops forever, and a ``power_method`` that loops when called; each
graded twice in a round, the sandbox keeping the course's limit and, for comparison, its own
limits (``c.StartVerdicts.own_limits = True``: grading before issue 12). Reported: wall time of
the command, the submission's own seconds (``grades.csv``) and that minus the reference's in the
same arm, score, load and reason; written to benchmarks/results/grading_bad.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("JUPYTER_PATH", None)
    return env


# ----------------------------------------------------------------------------- the batch


def demo_course(root: Path, n: int) -> str:
    from coursekit.batch import democourse

    democourse.make_course(root, with_torch=True)
    subprocess.run(
        [sys.executable, "-m", "coursekit.cli", "release"], cwd=root, env=environment(), check=True
    )
    kinds = democourse.GOOD_KINDS
    for i in range(n):
        democourse.write_submission(root, f"student{i:03d}", kinds[i % len(kinds)])
    return democourse.ASSIGNMENT


def real_course(root: Path, n: int, aid: str = "ps1_power_method") -> str:
    """A set of the repository (ps1 by default) with its nbgrader_config.py: the reference answer
    in three of every four submissions, the unmodified release in the fourth."""
    root.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("solutions", "assignments"):
        shutil.copytree(ROOT / folder, root / folder)
    for i in range(n):
        notebook = answered(root, aid, lambda answer: answer) if i % 4 else released(root, aid)
        folder = root / "submitted" / f"student{i:03d}" / aid
        folder.mkdir(parents=True)
        (folder / f"{aid}.ipynb").write_text(json.dumps(notebook))
    subprocess.run(
        [sys.executable, "-m", "coursekit.cli", "release", aid],
        cwd=root,
        env=environment(),
        check=True,
        capture_output=True,
    )
    return aid


def released(root: Path, aid: str) -> dict:
    return json.loads((root / "assignments" / aid / f"{aid}.ipynb").read_text())


def answered(root: Path, aid: str, edit: Callable[[str], str]) -> dict:
    """The released notebook with ``edit(reference answer)`` in each answer cell."""
    source = json.loads((root / "solutions" / aid / f"{aid}.ipynb").read_text())
    answers = {}
    for cell in source["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            lines = "".join(cell["source"]).splitlines()
            answers[meta["grade_id"]] = "\n".join(line for line in lines if "SOLUTION" not in line)
    notebook = released(root, aid)
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = edit(answers[grade_id])
    return notebook


# ----------------------------------------------------------------------------- the bad class

LOOP = "\n\nwhile True:  # never finishes\n    pass\n"
BAD_KINDS = {
    "reference": lambda answer: answer,
    "loop_in_cell": lambda answer: answer + LOOP,
    "loop_in_function": lambda answer: "def power_method(A, k):\n    while True:\n        pass\n",
}


def bad_course(root: Path, kind: str, aid: str = "ps1_power_method") -> str:
    """The repository's ``aid`` with one submission, ``kind`` (a key of ``BAD_KINDS``)."""
    real_course(root, 1, aid)
    notebook = answered(root, aid, BAD_KINDS[kind])
    (root / "submitted" / "student000" / aid / f"{aid}.ipynb").write_text(json.dumps(notebook))
    return aid


ARMS = {
    "course limit": "",  # the sandbox keeps the kernel's --timeout (issue 12)
    "own limits": "\nc.StartVerdicts.own_limits = True\n",  # how it graded before issue 12
}


def bad_class(timeout: int, rounds: int) -> dict:
    """Grade each kind of ``BAD_KINDS`` alone under each of ``ARMS``, ``rounds`` times,
    alternating kinds and arms within a round."""
    env = environment()
    runs: dict[str, list[dict]] = {f"{kind} / {arm}": [] for kind in BAD_KINDS for arm in ARMS}
    with tempfile.TemporaryDirectory(prefix="bench-grading-bad-") as tmp:
        bases = {}
        for kind in BAD_KINDS:
            bases[kind] = Path(tmp) / f"base-{kind}"
            aid = bad_course(bases[kind], kind)
        for r in range(rounds):
            for kind, base in bases.items():
                for arm, config in ARMS.items():
                    root = Path(tmp) / f"{kind}-{len(runs)}-{r}-{arm.replace(' ', '_')}"
                    shutil.copytree(base, root)
                    with open(root / "nbgrader_config.py", "a") as f:
                        f.write(config)
                    runs[f"{kind} / {arm}"].append(grade_one(root, aid, timeout, env))
    return runs


def grade_one(root: Path, aid: str, timeout: int, env: dict) -> dict:
    """``course grade aid --timeout T --workers 1`` on a course of one submission."""
    command = [sys.executable, "-m", "coursekit.cli", "grade", aid, "--timeout", str(timeout),
               "--workers", "1", "--no-progress"]  # fmt: skip
    wall, cpu, _ = timed(command, root, env)
    with open(root / "reports" / aid / "grades.csv") as f:
        (row,) = list(csv.DictReader(f))
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "submission_s": float(row["seconds"]),
            "total": row["total"], "max": row["max"], "status": row["status"],
            "reason": row["reason"], "load": round(os.getloadavg()[0], 2)}  # fmt: skip


def main_bad(timeout: int, rounds: int) -> None:
    runs = bad_class(timeout, rounds)
    summary = {}
    for name, items in runs.items():
        summary[name] = {
            "wall_s_median": round(statistics.median(i["wall_s"] for i in items), 2),
            "submission_s_median": round(statistics.median(i["submission_s"] for i in items), 2),
        }
    for name, values in summary.items():
        control = summary[f"reference / {name.split(' / ')[1]}"]["submission_s_median"]
        values["over_reference_s"] = round(values["submission_s_median"] - control, 2)
    result = {"timeout": timeout, "rounds": rounds, "cpus": os.cpu_count(), "summary": summary,
              "runs": runs}  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "grading_bad.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"| submission / sandbox (--timeout {timeout}) | course grade wall | its seconds | over "
          "the reference | score | load | reason |")  # fmt: skip
    print("|---|---:|---:|---:|---|---|---|")
    for name, values in summary.items():
        last = runs[name][-1]
        loads = "-".join(str(i["load"]) for i in runs[name])
        print(f"| {name} | {values['wall_s_median']:.1f} s | {values['submission_s_median']:.1f} s "
              f"| {values['over_reference_s']:+.1f} s | {last['total']} / {last['max']} | {loads} "
              f"| {last['reason'] or '-'} |")  # fmt: skip
    print(json.dumps(result, indent=1))


# ----------------------------------------------------------------------------- measuring


class TreeSampler:
    """Samples, every 0.1 s, the memory of each grading worker and of the kernels under it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.worker = {}  # worker pid -> peak RSS of the worker process
        self.tree = {}  # worker pid -> peak RSS of the worker and all its descendants
        self.kernel = 0
        self.parent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                top = psutil.Process(self.pid)
                self.parent = max(self.parent, top.memory_info().rss)
                for child in top.children():  # the workers (forked by `course grade`)
                    own = child.memory_info().rss
                    below = [p.memory_info().rss for p in child.children(recursive=True)]
                    self.worker[child.pid] = max(self.worker.get(child.pid, 0), own)
                    self.tree[child.pid] = max(self.tree.get(child.pid, 0), own + sum(below))
                    self.kernel = max([self.kernel, *below])
            except psutil.Error:
                pass
            time.sleep(0.1)


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    command: list[str], cwd: Path, env: dict, sample: bool = False
) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds of the whole process tree, and the memory sampler."""
    cpu = cpu_of_children()
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sampler = TreeSampler(proc.pid) if sample else None
    if sampler:
        sampler.thread.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if sampler:
        sampler.stop.set()
        sampler.thread.join()
    if proc.returncode != 0 and "autograde" not in command:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{err.decode()[-2000:]}")
    return seconds, cpu_of_children() - cpu, sampler


def floor_seconds(repeats: int) -> float:
    """Median time to start a plain python3 kernel, run ``import torch``, and shut it down."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3")
        client.execute_interactive("import torch", timeout=120)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----------------------------------------------------------------------------- main


def one_round(base: Path, tmp: Path, aid: str, workers: int, env: dict) -> dict:
    """Serial nbgrader, then `course grade`, each on a fresh copy of the course."""
    serial_root, parallel_root = tmp / "serial", tmp / "parallel"
    for root in (serial_root, parallel_root):
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(base, root)
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    serial, serial_cpu, _ = timed([nbgrader, "autograde", aid], serial_root, env)
    # What `course grade` also does, done the serial way: feedback, then nbgrader's export.
    feedback, _, _ = timed([nbgrader, "generate_feedback", aid], serial_root, env)
    export, _, _ = timed([nbgrader, "export"], serial_root, env)
    command = [sys.executable, "-m", "coursekit.cli", "grade", aid, "--workers", str(workers)]
    grade = [*command, "--no-progress"]
    parallel, parallel_cpu, sampler = timed(grade, parallel_root, env, sample=True)
    rerun, rerun_cpu, _ = timed(grade, parallel_root, env)
    with open(parallel_root / "reports" / aid / "grades.csv") as f:
        statuses = [line.split(",")[-3] for line in f.read().splitlines()[1:]]
    return {
        "serial": serial,
        "feedback": feedback,
        "export": export,
        "parallel": parallel,
        "serial_cpu": serial_cpu,
        "parallel_cpu": parallel_cpu,
        "rerun": rerun,
        "rerun_cpu": rerun_cpu,
        "sampler": sampler,
        "statuses": statuses,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--course", choices=("demo", "real", "bad"), default="demo")
    parser.add_argument("--timeout", type=int, default=10, help="--timeout of the bad class")
    parser.add_argument("--rounds", type=int, default=1, help="serial/parallel pairs (medians)")
    parser.add_argument("--floor-repeats", type=int, default=5)
    args = parser.parse_args()
    if args.course == "bad":
        main_bad(args.timeout, args.rounds)
        return
    n, workers = args.submissions, args.workers
    env = environment()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp) / "base"
        build = demo_course if args.course == "demo" else real_course
        aid = build(base, n)
        floor = floor_seconds(args.floor_repeats)
        rounds = [one_round(base, Path(tmp), aid, workers, env) for _ in range(args.rounds)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    serial, parallel = median("serial"), median("parallel")
    feedback, export = median("feedback"), median("export")
    serial_cpu, parallel_cpu = median("serial_cpu"), median("parallel_cpu")
    rerun, rerun_cpu = median("rerun"), median("rerun_cpu")
    workers_peak = [v for r in rounds for v in r["sampler"].worker.values()]
    trees_peak = [v for r in rounds for v in r["sampler"].tree.values()]
    statuses = rounds[-1]["statuses"]
    ideal = n * floor / workers
    result = {
        "course": args.course,
        "assignment": aid,
        "submissions": n,
        "workers": workers,
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "ratio_each_round": [round(r["serial"] / r["parallel"], 2) for r in rounds],
        "load_average_1min_each_round": [round(r["load"], 2) for r in rounds],
        "serial_nbgrader_s": round(serial, 2),
        "course_grade_s": round(parallel, 2),
        "ratio": round(serial / parallel, 2),
        "serial_feedback_s": round(feedback, 2),
        "serial_export_s": round(export, 2),
        "ratio_same_outputs": round((serial + feedback + export) / parallel, 2),
        "serial_per_submission_s": round(serial / n, 3),
        "course_grade_per_submission_s": round(parallel / n, 3),
        "floor_kernel_start_import_torch_s": round(floor, 3),
        "floor_batch_s": round(ideal, 2),
        "course_grade_over_floor": round(parallel / ideal, 2),
        "serial_cpu_per_submission_s": round(serial_cpu / n, 3),
        "course_grade_cpu_per_submission_s": round(parallel_cpu / n, 3),
        "rerun_nothing_to_grade_s": round(rerun, 2),
        "rerun_cpu_s": round(rerun_cpu, 2),
        "peak_worker_rss_mib": round(max(workers_peak, default=0) / MIB),
        "peak_worker_with_kernel_rss_mib": round(max(trees_peak, default=0) / MIB),
        "peak_kernel_rss_mib": round(max(r["sampler"].kernel for r in rounds) / MIB),
        "peak_parent_rss_mib": round(max(r["sampler"].parent for r in rounds) / MIB),
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
    }
    out = ROOT / "benchmarks" / "results" / "grading.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    worker, with_kernel = result["peak_worker_rss_mib"], result["peak_worker_with_kernel_rss_mib"]
    print(
        f"| batch | serial nbgrader autograde | course grade --workers {workers} | ratio "
        "(with serial feedback + export) | "
        "per submission (serial / course grade) | floor: kernel + import torch (batch) | "
        "course grade / floor | peak RSS per worker (alone / with its kernel) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {n} x {aid} | {serial:.1f} s | {parallel:.1f} s | {serial / parallel:.2f}x "
        f"({result['ratio_same_outputs']:.2f}x) | "
        f"{serial / n:.2f} s / {parallel / n:.2f} s | {floor:.2f} s ({ideal:.1f} s) | "
        f"{parallel / ideal:.2f}x | {worker} / {with_kernel} MiB |"
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
