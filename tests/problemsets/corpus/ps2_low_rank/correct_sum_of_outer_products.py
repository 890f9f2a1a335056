"""Sum of r rank-one terms σ_i u_i v_iᵀ, accumulated into zeros_like(A)."""

EXPECT = {"full": True}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    out = torch.zeros_like(A)
    for i in range(min(r, S.numel())):
        out += S[i] * torch.outer(U[:, i], Vh[i, :])
    return out
