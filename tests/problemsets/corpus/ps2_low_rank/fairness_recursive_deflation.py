"""Recursion: the best rank-r approximation is the top rank-one term plus the best rank-(r-1)
approximation of what is left (deflation)."""

EXPECT = {"full": True}

import torch


def best_rank_approximation(A, r):
    if r == 0 or min(A.shape) == 0:
        return torch.zeros_like(A)
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    if r >= S.numel():
        return A.clone()
    top = S[0] * torch.outer(U[:, 0], Vh[0])
    return top + best_rank_approximation(A - top, r - 1)
