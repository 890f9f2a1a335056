"""Grading cost per submission of every set, against ps1's, in one run.

For each set (default: every set of ``coursekit.problemsets``), a copy of the course holds N
submissions (the reference answer in three of four, the unmodified release in the fourth; see
``bench_grading.real_course``), and serial ``nbgrader autograde`` grades them with the
repository's config (sandboxed kernel, trusted verdicts). The sets are timed one after the other,
in rounds that alternate their order, and the table reports the median seconds per submission and
the ratio to ps1 (the issue's budget: at most 2x). The machine is shared: compare the numbers of
one run with each other.

Usage: ``python benchmarks/bench_sets.py [--submissions N] [--rounds R] [ID ...]``.
Prints a Markdown table for the README and writes benchmarks/results/sets.json.
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


def seconds_per_submission(aid: str, n: int, tmp: Path) -> float:
    root = tmp / aid
    real_course(root, n, aid)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", aid, "--force"],
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
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    ids = list(dict.fromkeys([BASELINE, *args.ids]))
    times: dict[str, list[float]] = {aid: [] for aid in ids}
    for r in range(args.rounds):
        order = ids if r % 2 == 0 else ids[::-1]
        for aid in order:
            with tempfile.TemporaryDirectory(prefix="bench-sets-") as tmp:
                times[aid].append(seconds_per_submission(aid, args.submissions, Path(tmp)))
            print(f"round {r + 1}: {aid} {times[aid][-1]:.2f} s per submission", flush=True)
    median = {aid: statistics.median(values) for aid, values in times.items()}
    print(f"\n{args.submissions} submissions per set, {args.rounds} round(s), serial nbgrader")
    print("\n| set | s per submission | ratio to ps1 | within 2x |\n|---|---:|---:|:---:|")
    for aid in ids:
        ratio = median[aid] / median[BASELINE]
        print(f"| {aid} | {median[aid]:.2f} | {ratio:.2f} | {'yes' if ratio <= 2 else 'no'} |")
    out = ROOT / "benchmarks" / "results" / "sets.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"submissions": args.submissions, "times": times}, indent=1))


if __name__ == "__main__":
    main()
