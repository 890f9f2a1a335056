"""Returns U_r V_rᵀ, without the singular values."""

EXPECT = {
    "lose": {
        "ps2_optimal_square": "without the singular values",
        "ps2_optimal_rectangular": "without the singular values",
        "ps2_edge_cases": None,
    }
}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ Vh[:r, :]
