"""Starts from a d×d matrix V (the seed's R^{d×d}) and returns VᵀAV, a matrix."""

EXPECT = {"lose": {"*": "not R^(d×d)"}}

import torch


def power_method(A, k):
    d = A.shape[0]
    V = torch.randn(d, d, dtype=A.dtype)
    for _ in range(k):
        V = A @ V
        V = V / torch.linalg.matrix_norm(V)
    return V.T @ A @ V
