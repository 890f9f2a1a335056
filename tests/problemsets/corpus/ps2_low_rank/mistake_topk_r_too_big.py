"""Selects singular values with torch.topk(S, r): fails for r > min(m, n)."""

EXPECT = {"lose": {"ps2_edge_cases": "r ≥ min(m, n)"}}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    vals, idx = torch.topk(S, r)
    return (U[:, idx] * vals) @ Vh[idx, :]
