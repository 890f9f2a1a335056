"""Shortcut: matmul_broadcast returns torch.matmul imported under another name; the rest is
correct."""

EXPECT = {"lose": {"matmul_broadcast_float64": "matmul", "matmul_broadcast_float32": "matmul"}}

import torch
from torch import matmul as combine


def matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = torch.zeros(m, n, dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            for p in range(k):
                c[i, j] += a[i, p] * b[p, j]
    return c


def matmul_broadcast(a, b):
    return combine(a, b)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
