"""Returns A itself, no truncation."""

EXPECT = {
    "lose": {
        "ps2_rank": "You returned A itself",
        "ps2_optimal_square": "You returned A itself",
        "ps2_optimal_rectangular": "You returned A itself",
        "ps2_edge_cases": "zero matrix",
    }
}

import torch


def best_rank_approximation(A, r):
    return A.clone()
