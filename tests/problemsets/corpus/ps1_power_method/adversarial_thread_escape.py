"""Tampering: computes eigvalsh in a thread, where per-thread traps might not look."""

EXPECT = {"lose": {"*": "imports threading"}}

import threading

import torch


def power_method(A, k):
    out = {}
    t = threading.Thread(target=lambda: out.update(v=torch.linalg.eigvalsh(A)[-1]))
    t.start()
    t.join()
    return out["v"]
