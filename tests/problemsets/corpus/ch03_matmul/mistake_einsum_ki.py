"""Mistake: einsum string "ij,jk->ki", which gives the transpose, shape (n, m)."""

EXPECT = {"lose": {"matmul_einsum_float64": "transpose", "matmul_einsum_float32": "transpose"}}

import torch


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
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ij,jk->ki", a, b)
