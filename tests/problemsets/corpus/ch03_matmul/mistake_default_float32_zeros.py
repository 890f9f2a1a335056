"""Mistake: c = torch.zeros(m, n) without dtype, so float64 inputs give a float32 result (the
float32 part is right)."""

EXPECT = {"lose": {"matmul_loops_float64": "float32 unless you ask"}}

import torch


def matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = torch.zeros(m, n)
    for i in range(m):
        for j in range(n):
            for p in range(k):
                c[i, j] += a[i, p] * b[p, j]
    return c


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
