"""Whole-book build times: a clean build (every chapter executed) and a no-change rebuild.

The rebuild reuses Jupyter Book's execution cache and Sphinx's environment, so it measures the
cost a writer pays for re-rendering without re-running anything. Builds into a temporary
directory so the working tree's _build is untouched. Prints a Markdown table for the README.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JB = Path(sys.executable).parent / "jupyter-book"


def build(out: Path, *, clean: bool) -> float:
    cmd = [str(JB), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"]
    if clean:
        cmd.insert(2, "--all")
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        clean = build(out, clean=True)
        rebuild = build(out, clean=False)
    print("| build | seconds |")
    print("|---|---:|")
    print(f"| clean (all chapters executed) | {clean:.1f} |")
    print(f"| no-change rebuild (cached) | {rebuild:.1f} |")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "build.json").write_text(json.dumps({"clean": clean, "rebuild": rebuild}))


if __name__ == "__main__":
    main()
