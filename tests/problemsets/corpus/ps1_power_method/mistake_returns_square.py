"""Returns ‖Av‖², the square of the eigenvalue."""

EXPECT = {"lose": {"*": "square"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return (A @ v) @ (A @ v)
