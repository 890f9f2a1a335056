"""The matmul ladder of chapter 3 at larger sizes: seconds and GFLOP/s of every rung.

Every rung of ``fromscratch.matmul`` is checked against the float64 product (within the
rounding bound ``matmul_error_bound``) and timed with ``time_call`` (warm-up, then the median
of repeats). A rung is skipped, with the reason printed, when its estimated time (from its
measured cost per FLOP on the previous size) exceeds ``--max-seconds``, or when the
``(m, k, n)`` temporary of ``matmul_broadcast_full`` would exceed ``--max-temp-mib``.

Usage: ``python benchmarks/bench_matmul.py [--threads N] [--repeats R] [--max-seconds S]``.
Prints a Markdown table for the README. One thread by default, because on a shared machine
multithreaded timings are erratic; pass ``--threads 0`` for torch's default.
"""

from __future__ import annotations

import argparse
import platform

import torch

from fromscratch.matmul import (
    gflops,
    matmul_batched,
    matmul_blas,
    matmul_broadcast,
    matmul_broadcast_full,
    matmul_einsum,
    matmul_error_bound,
    matmul_loops,
    matmul_rowdot,
    time_call,
)

SIZES = [(5, 784, 10), (64, 784, 64), (256, 256, 256), (1024, 1024, 1024)]
BATCH = 8  # the bmm rung multiplies BATCH independent products of each size
RUNGS = [
    ("1 loops", matmul_loops),
    ("2 row-dot", matmul_rowdot),
    ("3 broadcast (row loop)", matmul_broadcast),
    ("4 broadcast (no loop)", matmul_broadcast_full),
    ("5 einsum", matmul_einsum),
    ("6 @ (BLAS)", matmul_blas),
    ("7 bmm (batched)", matmul_batched),
]


def check(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
    """Raise AssertionError unless c is within the float32 rounding bound of a @ b."""
    exact = a.double() @ b.double()  # float64 reference
    if a.dim() == 2:
        bound = matmul_error_bound(a, b)  # (m, n)
    else:
        bound = torch.stack([matmul_error_bound(x, y) for x, y in zip(a, b, strict=True)])
    assert ((c.double() - exact).abs() <= bound).all(), "result outside the rounding bound"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="0 = torch's default")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=2.0, help="per timed call")
    parser.add_argument("--max-temp-mib", type=float, default=1024.0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{torch.backends.cpu.get_cpu_capability()}, {platform.processor() or platform.machine()}"
    )
    print()
    print("| rung | problem | median time | GFLOP/s |")
    print("|---|---|---:|---:|")
    seconds_per_flop: dict[str, float] = {}
    g = torch.Generator().manual_seed(0)
    for m, k, n in SIZES:
        for name, fn in RUNGS:
            batch = BATCH if fn is matmul_batched else 1
            problem = (f"{batch} x " if batch > 1 else "") + f"({m}, {k}) @ ({k}, {n})"
            flops = 2 * batch * m * k * n
            estimate = seconds_per_flop.get(name, 0.0) * flops
            if fn is matmul_broadcast_full and m * k * n * 4 / 2**20 > args.max_temp_mib:
                print(f"| {name} | {problem} | skipped: {m * k * n * 4 / 2**20:.0f} MiB temp | |")
                continue
            if estimate > args.max_seconds:
                print(f"| {name} | {problem} | skipped: ~{estimate:.0f} s estimated | |")
                continue
            shape_a = (batch, m, k) if batch > 1 else (m, k)
            shape_b = (batch, k, n) if batch > 1 else (k, n)
            a = torch.randn(shape_a, generator=g)
            b = torch.randn(shape_b, generator=g)
            check(fn(a, b), a, b)
            seconds = time_call(fn, a, b, repeats=args.repeats, warmup=1)
            seconds_per_flop[name] = seconds / flops
            rate = gflops(m, k, n, seconds, batch=batch)
            print(f"| {name} | {problem} | {seconds * 1e3:.3f} ms | {rate:.4g} |")


if __name__ == "__main__":
    main()
