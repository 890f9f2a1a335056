"""Recursion instead of a loop (k ≤ 400 stays under Python's recursion limit)."""

EXPECT = {"full": True}

import torch


def iterate(A, v, k):
    if k == 0:
        return v
    w = A @ v
    return iterate(A, w / torch.linalg.vector_norm(w), k - 1)


def power_method(A, k):
    v = iterate(A, torch.randn(A.shape[0], dtype=A.dtype), k)
    return torch.dot(v, A @ v)
