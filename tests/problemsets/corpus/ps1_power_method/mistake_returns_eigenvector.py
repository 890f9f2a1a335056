"""Returns the iterate v (the eigenvector) instead of the eigenvalue."""

EXPECT = {"lose": {"*": "eigenvector"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.norm(v)
    return v
