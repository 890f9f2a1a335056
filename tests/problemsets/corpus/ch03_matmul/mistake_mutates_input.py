"""Mistake: matmul_broadcast reshapes its input in place (a.unsqueeze_), changing the caller's a;
the product itself is right."""

EXPECT = {
    "lose": {
        "matmul_broadcast_float64": "changed its input a",
        "matmul_broadcast_float32": "changed its input a",
    }
}

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
    a.unsqueeze_(2)  # (m, k) -> (m, k, 1), in place
    return (a * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
