"""Computes in float64 whatever the input dtype, returns a one-element tensor of shape (1,)."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    B = A.to(torch.float64)
    v = torch.randn(B.shape[0], 1, dtype=torch.float64)  # a column vector, (d, 1)
    for _ in range(k):
        v = B @ v
        v.div_(torch.linalg.vector_norm(v))
    return (v.T @ B @ v).reshape(1).to(A.dtype)
