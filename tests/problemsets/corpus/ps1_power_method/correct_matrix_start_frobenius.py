"""Starts from a d×d matrix (the seed's R^{d×d}) normalised in Frobenius norm; returns ‖AV‖_F.

This still converges to λ₁ (every column is a power iteration sharing one scale), so the answer
is right and must get full marks."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    d = A.shape[0]
    V = torch.randn(d, d, dtype=A.dtype)
    for _ in range(k):
        W = A @ V
        V = W / torch.linalg.matrix_norm(W)  # Frobenius by default: no singular values
    return torch.linalg.matrix_norm(A @ V)
