"""Mistake: c[i, j] = ... instead of c[i, j] += ... (only the last product stays); right when
k = 1, so the float64 part keeps 1 of its 3 cases."""

EXPECT = {
    "lose": {"matmul_loops_float64": "accumulating", "matmul_loops_float32": "accumulating"},
}

import torch


def matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = torch.zeros(m, n, dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            for p in range(k):
                c[i, j] = a[i, p] * b[p, j]
    return c


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
