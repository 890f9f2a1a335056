"""Execute one MyST chapter in a fresh kernel and print its wall time and the kernel's peak RSS.

Run by bench_chapters.py in a subprocess of its own, so that the kernel is this process's only
child and ``RUSAGE_CHILDREN`` reports the kernel's peak resident memory exactly (no polling).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient


def main(path: str) -> None:
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    print(json.dumps({"chapter": Path(path).stem, "seconds": seconds, "peak_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main(sys.argv[1])
