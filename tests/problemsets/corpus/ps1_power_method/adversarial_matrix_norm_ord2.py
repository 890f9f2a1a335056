"""Shortcut: the spectral norm torch.linalg.matrix_norm(A, ord=2) equals λ₁ for PSD A."""

EXPECT = {"lose": {"*": "torch.linalg.matrix_norm"}}

import torch


def power_method(A, k):
    return torch.linalg.matrix_norm(A, ord=2)
