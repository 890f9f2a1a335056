"""Mistake: matmul_broadcast sums the (m, k, n) products over dim 0 instead of dim 1."""

EXPECT = {
    "lose": {"matmul_broadcast_float64": "wrong axis", "matmul_broadcast_float32": "wrong axis"}
}

import torch


def matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = torch.zeros(m, n, dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            c[i, j] = (a[i, :] * b[:, j]).sum()
    return c


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(0)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
