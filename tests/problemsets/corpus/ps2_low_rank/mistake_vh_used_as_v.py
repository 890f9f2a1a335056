"""Uses Vh as if it were V: Vh[:, :r].T (wrong shape on wide matrices, wrong rows elsewhere)."""

EXPECT = {
    "lose": {
        "ps2_shape_dtype": "Vh",
        "ps2_rank": "Vh",
        "ps2_optimal_square": "using Vh as V",
        "ps2_optimal_rectangular": "using Vh as V",
        "ps2_edge_cases": None,
    }
}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:, :r].T
