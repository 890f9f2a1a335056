"""Runs max(k, 1000) iterations and stops early once converged; still the right eigenvalue."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    v = v / v.norm()
    estimate = torch.zeros((), dtype=A.dtype)
    for _ in range(max(k, 1000)):
        w = A @ v
        new = v @ w
        v = w / w.norm()
        if torch.abs(new - estimate) <= 1e-15 * torch.abs(new):
            break
        estimate = new
    return v @ A @ v
