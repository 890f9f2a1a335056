"""Shortcut: matmul_loops reaches torch.einsum through getattr with a computed name, and
matmul_einsum uses @ instead of einsum; matmul_broadcast is correct (full marks, flagged for
review: the notebook's getattr with a computed name is something the grader cannot fully see)."""

EXPECT = {
    "lose": {
        "matmul_loops_float64": "einsum",
        "matmul_loops_float32": "einsum",
        "matmul_einsum_float64": "matmul",
        "matmul_einsum_float32": "matmul",
    },
    "review": ["matmul_broadcast_float64", "matmul_broadcast_float32"],
}

import torch


def matmul_loops(a, b):
    return getattr(torch, "ein" + "sum")("ik,kj->ij", a, b)


def matmul_broadcast(a, b):
    return (a[:, :, None] * b[None, :, :]).sum(1)


def matmul_einsum(a, b):
    return a @ b
