"""Devices: waiting for a device to finish, and timing code correctly on CPU or GPU.

On a CUDA device, operations are *asynchronous*: ``c = a @ b`` queues the matmul on the GPU
and returns at once, before the result exists. A timer read right after it measures only the
queueing. ``torch.cuda.synchronize()`` blocks until every queued operation has finished, so a
correct timing synchronises before starting the clock (to exclude earlier work) and before
stopping it (to include all of this work). On the CPU, operations finish before they return
and there is nothing to wait for.

Taught in: chapter 9, A complete classifier (section "Devices").
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def synchronize(device: torch.device | str) -> None:
    """Wait until all work queued on ``device`` has finished (a no-op on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_it(
    fn: Callable[[], object],
    device: torch.device | str,
    *,
    repeats: int = 5,
    warmup: int = 1,
) -> float:
    """Median wall time of ``fn()`` in seconds, synchronising ``device`` around each call.

    ``warmup`` calls run first and are not timed (the first call may allocate memory, load
    kernels or tune them).

    Args:
        fn: the work to time, called with no arguments.
        device: where ``fn`` runs its tensor operations.
        repeats: timed calls; the median is returned.
        warmup: untimed calls before the timed ones.

    Taught in: chapter 9, A complete classifier (section "Devices").
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)  # earlier work must not be billed to this call
        start = time.perf_counter()
        fn()
        synchronize(device)  # wait for this call's work to finish before reading the clock
        times.append(time.perf_counter() - start)
    return statistics.median(times)
