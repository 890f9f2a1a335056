"""Mistake: the result matrix is created as integers, so every entry is truncated."""

EXPECT = {"lose": {"matmul_loops_float64": "integer", "matmul_loops_float32": "integer"}}

import torch


def matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = torch.zeros(m, n, dtype=torch.int64)
    for i in range(m):
        for j in range(n):
            c[i, j] = (a[i] * b[:, j]).sum()
    return c


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
