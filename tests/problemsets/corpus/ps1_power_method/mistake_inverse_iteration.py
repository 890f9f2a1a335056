"""Iterates with A⁻¹ (inverse iteration): finds the smallest eigenvalue (0 for singular A)."""

EXPECT = {"lose": {"*": "smallest eigenvalue"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = torch.linalg.solve(A, v)
        v = v / v.norm()
    return v @ A @ v
