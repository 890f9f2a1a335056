"""Creates the start vector in float32 whatever A's dtype: float64 inputs fail on A @ v."""

EXPECT = {
    "lose": {
        "power_method_diagonal": "dtype=A.dtype",
        "power_method_float64": "dtype=A.dtype",
        "power_method_small_gap": "dtype=A.dtype",
        "power_method_tiny_scale": "dtype=A.dtype",
    }
}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0])
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return v @ A @ v
