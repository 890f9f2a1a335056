"""Returns the factors (U_r Σ_r, Vh_r) instead of their product."""

EXPECT = {"lose": {"*": "expected a tensor"}, "total": 0.0}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] * S[:r], Vh[:r, :]
