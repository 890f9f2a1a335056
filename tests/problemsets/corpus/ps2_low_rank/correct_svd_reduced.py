"""Truncated SVD, reduced factors, scaling columns by S instead of diag(S)."""

EXPECT = {"full": True, "twin": True}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return (U[:, :r] * S[:r]) @ Vh[:r, :]
