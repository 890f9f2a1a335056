"""Slices rows of U instead of columns (U[:r, :].T)."""

EXPECT = {
    "lose": {
        "ps2_optimal_square": "COLUMNS of U",
        "ps2_optimal_rectangular": "COLUMNS of U",
        "ps2_edge_cases": None,
    }
}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A)
    return (U[:r, :].T[:, :r] * S[:r]) @ Vh[:r, :]
