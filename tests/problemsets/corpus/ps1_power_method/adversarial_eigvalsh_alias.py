"""Shortcut: torch.linalg.eigvalsh imported under an innocent alias, called from a helper."""

EXPECT = {"lose": {"*": "torch.linalg.eigvalsh"}}

import torch
from torch.linalg import eigvalsh as spectrum_helper


def _largest(M):
    return spectrum_helper(M)[-1]


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return _largest(A)
