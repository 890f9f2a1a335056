"""Correct, other rungs: matmul_loops as row-dot (torch.dot and @ of two 1-D rows, allowed
there), matmul_broadcast with one loop over rows, matmul_einsum with other index letters."""

EXPECT = {"full": True}

import torch


def matmul_loops(a, b):
    m, n = a.shape[0], b.shape[1]
    c = torch.empty(m, n, dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            if j % 2:
                c[i, j] = torch.dot(a[i], b[:, j])
            else:
                c[i, j] = a[i] @ b[:, j]  # two vectors: a dot product
    return c


def matmul_broadcast(a, b):
    rows = []
    for i in range(a.shape[0]):
        rows.append((a[i, :, None] * b).sum(dim=0))  # (k, 1) * (k, n) -> (k, n) -> (n,)
    return torch.stack(rows)


def matmul_einsum(a, b):
    return torch.einsum("rs,st->rt", a, b)
