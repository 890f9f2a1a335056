"""Tests for fromscratch.devices.

There is no GPU on the reference machine, so the CUDA path is checked by recording the calls:
time_it must synchronise a CUDA device before starting and before stopping every timed call,
and never on the CPU.
"""

import pytest
import torch

from fromscratch import devices
from fromscratch.devices import synchronize, time_it


def test_time_it_synchronises_around_every_timed_call_on_cuda(monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append("sync"))
    time_it(lambda: events.append("call"), "cuda", repeats=2, warmup=1)
    assert events == ["call", "sync", "call", "sync", "sync", "call", "sync"]


def test_time_it_does_not_touch_cuda_on_the_cpu(monkeypatch):
    def fail(device=None):
        raise AssertionError("synchronize called for a CPU device")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    synchronize("cpu")
    assert time_it(lambda: torch.ones(10).sum(), torch.device("cpu"), repeats=3) >= 0


def test_time_it_returns_the_median(monkeypatch):
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # durations 1, 3, 2 -> median 2
    monkeypatch.setattr(devices.time, "perf_counter", lambda: next(clock))
    assert time_it(lambda: None, "cpu", repeats=3, warmup=0) == 2.0


def test_time_it_rejects_no_repeats():
    with pytest.raises(ValueError, match="at least 1"):
        time_it(lambda: None, "cpu", repeats=0)
