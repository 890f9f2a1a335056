"""Mistake: the inner loop runs over m (a.shape[0]) instead of k."""

EXPECT = {"lose": {"matmul_loops_float64": "instead of k", "matmul_loops_float32": "instead of k"}}

import torch


def matmul_loops(a, b):
    m, n = a.shape[0], b.shape[1]
    c = torch.zeros(m, n, dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            for p in range(m):
                c[i, j] += a[i, p] * b[p, j]
    return c


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
