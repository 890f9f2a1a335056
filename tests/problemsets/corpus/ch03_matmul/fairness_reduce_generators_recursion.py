"""Correct: functools.reduce over the inner index, a generator of rows, a recursive split of
the rows, and einsum through a small wrapper with keyword arguments."""

EXPECT = {"full": True}

import functools

import torch


def matmul_loops(a, b):
    m, k = a.shape
    n = b.shape[1]

    def entry(i, j):
        return functools.reduce(lambda s, p: s + a[i, p] * b[p, j], range(1, k), a[i, 0] * b[0, j])

    return torch.stack([torch.stack([entry(i, j) for j in range(n)]) for i in range(m)])


def matmul_broadcast(a, b):
    if a.shape[0] > 2:  # split the rows in two halves, recursively
        h = a.shape[0] // 2
        return torch.cat([matmul_broadcast(a[:h], b), matmul_broadcast(a[h:], b)])
    return torch.stack(list((row[:, None] * b).sum(0) for row in a))


def contract(spec, *operands):
    return torch.einsum(spec, *operands)


def matmul_einsum(a, b):
    return contract("ik,kj->ij", a, b)
