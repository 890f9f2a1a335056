"""Stacks the r rank-one terms: torch.stack fails for r = 0."""

EXPECT = {"lose": {"ps2_edge_cases": "r = 0"}}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    terms = [S[i] * torch.outer(U[:, i], Vh[i]) for i in range(min(r, len(S)))]
    return torch.stack(terms).sum(dim=0)
