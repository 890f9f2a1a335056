"""Computes eigvalsh in a thread, where per-thread traps would not look: threads fail while grading."""

EXPECT = {"lose": {"*": "starting a thread is not possible while grading"}}

import threading

import torch


def power_method(A, k):
    out = {}
    t = threading.Thread(target=lambda: out.update(v=torch.linalg.eigvalsh(A)[-1]))
    t.start()
    t.join()
    return out["v"]
