"""Shortcut: matmul_loops loops over columns but hands each column to a helper that calls
torch.mv (a matrix-vector product); the rest is correct."""

EXPECT = {"lose": {"matmul_loops_float64": "torch.mv", "matmul_loops_float32": "torch.mv"}}

import torch


def _column(a, b, j):
    return torch.mv(a, b[:, j])  # (m, k) @ (k,) -> (m,)


def matmul_loops(a, b):
    return torch.stack([_column(a, b, j) for j in range(b.shape[1])], dim=1)


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)
