"""Takes a square root of the Rayleigh quotient (confusing λ with a singular value of √A)."""

EXPECT = {"lose": {"*": "square root"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return torch.sqrt(v @ A @ v)
