"""Grading cost per submission of every set, against ps1's, in one run.

For each set (default: every set of ``coursekit.problemsets``), a copy of the course holds N
submissions (the reference answer in three of four, the unmodified release in the fourth; see
``bench_grading.real_course``), graded with the repository's config (sandboxed kernel, trusted
verdicts) by ``course grade ID --workers 2`` as an instructor runs it (``--engine course``,
the default: warm kernels, feedback, report and export included) or by serial ``nbgrader
autograde`` (``--engine nbgrader``). Every set gets the same N, so a run's fixed start and
finish weigh the same in each. The sets are timed one after the other, in rounds that alternate
their order, and the table reports the median seconds per submission and the ratio to ps1 (the
issue's budget: at most 2x). The machine is shared: compare the numbers of one run.

Usage: ``python benchmarks/bench_sets.py [--engine course|nbgrader] [--submissions N]
[--rounds R] [ID ...]``. Prints a Markdown table for the README and writes
benchmarks/results/sets-<engine>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grading import ROOT, environment, real_course  # noqa: E402

BASELINE = "ps1_power_method"


ENGINES = {
    "course": ["-m", "coursekit.cli", "grade", "{aid}", "--workers", "2", "--no-progress"],
    "nbgrader": ["-m", "nbgrader", "autograde", "{aid}", "--force"],
}
SAY = {"course": "course grade --workers 2 (warm kernels)", "nbgrader": "serial nbgrader autograde"}


def seconds_per_submission(aid: str, n: int, tmp: Path, engine: str) -> float:
    root = tmp / aid
    real_course(root, n, aid)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *(arg.format(aid=aid) for arg in ENGINES[engine])],
        cwd=root,
        env=environment(),
        check=True,
        capture_output=True,
    )
    return (time.perf_counter() - start) / n


def main() -> None:
    sys.path.insert(0, str(ROOT / "lib"))
    from coursekit.problemsets import ASSIGNMENTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", default=list(ASSIGNMENTS))
    parser.add_argument("--engine", choices=sorted(ENGINES), default="course")
    parser.add_argument("--submissions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    ids = list(dict.fromkeys([BASELINE, *args.ids]))
    times: dict[str, list[float]] = {aid: [] for aid in ids}
    for r in range(args.rounds):
        order = ids if r % 2 == 0 else ids[::-1]
        for aid in order:
            with tempfile.TemporaryDirectory(prefix="bench-sets-") as tmp:
                times[aid].append(
                    seconds_per_submission(aid, args.submissions, Path(tmp), args.engine)
                )
            print(f"round {r + 1}: {aid} {times[aid][-1]:.2f} s per submission", flush=True)
    median = {aid: statistics.median(values) for aid, values in times.items()}
    print(f"\n{args.submissions} submissions per set, {args.rounds} round(s), {SAY[args.engine]}")
    print("\n| set | s per submission | ratio to ps1 | within 2x |\n|---|---:|---:|:---:|")
    for aid in ids:
        ratio = median[aid] / median[BASELINE]
        print(f"| {aid} | {median[aid]:.2f} | {ratio:.2f} | {'yes' if ratio <= 2 else 'no'} |")
    out = ROOT / "benchmarks" / "results" / f"sets-{args.engine}.json"
    out.parent.mkdir(exist_ok=True)
    result = {"engine": args.engine, "submissions": args.submissions, "times": times}
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
