"""Normalises by the largest entry (∞-norm), then uses vᵀAv as if ‖v‖₂ were 1: overestimates."""

EXPECT = {
    "lose": {
        "power_method_float64": "Euclidean norm",
        "power_method_float32": "Euclidean norm",
        "power_method_small_gap": "Euclidean norm",
        "power_method_tiny_scale": "Euclidean norm",
    }
}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.abs().max()
    return v @ A @ v
