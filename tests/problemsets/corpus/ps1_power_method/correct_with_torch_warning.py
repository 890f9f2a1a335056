"""Correct, but torch prints a UserWarning to stderr on every call (torch.tensor(A) on a tensor)."""

EXPECT = {"full": True}

import warnings

import torch


def power_method(A, k):
    A = torch.tensor(A)  # UserWarning: To copy construct from a tensor, use clone().detach()
    warnings.warn("power_method: this is my own warning, printed on stderr")
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.vector_norm(v)
    return v @ A @ v
