"""Ignores k and always runs 20 iterations: fine for a large gap, not for λ₂/λ₁ = 0.9."""

EXPECT = {"lose": {"power_method_small_gap": "not converged"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(20):
        v = A @ v
        v = v / v.norm()
    return v @ A @ v
