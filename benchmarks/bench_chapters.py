"""Per-chapter execution budget: wall time and peak kernel memory of every chapter.

Each chapter runs in a fresh kernel (kernel start and imports included), as on a Binder pod.
Budget from the course's build rules: at most 30 s and 1.5 GB per chapter on 2 CPU cores.
Usage: ``python benchmarks/bench_chapters.py [--repeats N]``. Prints a Markdown table for the
README and writes benchmarks/results/chapters.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 30.0
BUDGET_MIB = 1.5 * 1024


def chapters() -> list[Path]:
    """Chapter files (the executed notebooks of the "Chapters" part) in table-of-contents order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = [p for p in toc["parts"] if p.get("caption") == "Chapters"]
    files = [c["file"] for part in parts for c in part["chapters"]]
    return [ROOT / f"{f}.md" for f in files if (ROOT / f"{f}.md").exists()]


def run_one(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "_execute_one.py"), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per chapter (median kept)")
    args = parser.parse_args()
    rows = []
    for path in chapters():
        runs = [run_one(path) for _ in range(args.repeats)]
        rows.append(
            {
                "chapter": path.stem,
                "seconds": statistics.median(r["seconds"] for r in runs),
                "peak_mib": max(r["peak_mib"] for r in runs),
            }
        )
        print(f"  {rows[-1]}", file=sys.stderr)
    print("| chapter | execute (s) | peak kernel RSS (MiB) | within budget |")
    print("|---|---:|---:|:---:|")
    for r in rows:
        ok = r["seconds"] <= BUDGET_SECONDS and r["peak_mib"] <= BUDGET_MIB
        verdict = "yes" if ok else "NO"
        print(f"| {r['chapter']} | {r['seconds']:.1f} | {r['peak_mib']:.0f} | {verdict} |")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "chapters.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
