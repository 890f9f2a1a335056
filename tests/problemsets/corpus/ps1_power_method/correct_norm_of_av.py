"""Returns ‖Av‖ of the last iterate instead of the Rayleigh quotient."""

EXPECT = {"full": True, "twin": True}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return torch.linalg.vector_norm(A @ v)
