"""full_matrices=True and names the third factor V, then takes V[:, :r].T."""

EXPECT = {
    "lose": {
        "ps2_optimal_square": "using Vh as V",
        "ps2_optimal_rectangular": "using Vh as V",
        "ps2_edge_cases": "A itself",
    }
}

import torch


def best_rank_approximation(A, r):
    U, S, V = torch.linalg.svd(A)
    r = min(r, S.shape[0])
    return U[:, :r] @ torch.diag(S[:r]) @ V[:, :r].T
