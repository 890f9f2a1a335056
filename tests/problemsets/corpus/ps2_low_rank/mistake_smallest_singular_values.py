"""Keeps the last r singular values (the smallest) instead of the first r."""

EXPECT = {
    "lose": {
        "ps2_optimal_square": "SMALLEST",
        "ps2_optimal_rectangular": "SMALLEST",
        "ps2_edge_cases": "zero matrix",
    }
}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return (U[:, -r:] * S[-r:]) @ Vh[-r:, :]
