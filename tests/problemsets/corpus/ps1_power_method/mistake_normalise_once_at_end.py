"""Multiplies k times and normalises only once at the end: overflows in float32, underflows for tiny λ."""

EXPECT = {
    "lose": {
        "power_method_float32": "normalise v at every iteration",
        "power_method_tiny_scale": "normalise v at every iteration",
    }
}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
    v = v / torch.linalg.norm(v)
    return v @ A @ v
