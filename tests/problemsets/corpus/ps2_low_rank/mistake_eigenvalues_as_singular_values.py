"""Projection route that uses the eigenvalues of AᵀA (σ²) where σ belongs."""

EXPECT = {
    "lose": {"ps2_optimal_square": "σ²", "ps2_optimal_rectangular": "σ²", "ps2_edge_cases": None}
}

import torch


def best_rank_approximation(A, r):
    lam, V = torch.linalg.eigh(A.T @ A)
    lam, V = lam.flip(0), V.flip(1)
    k = min(A.shape)
    lam_r, V_r = lam[: min(r, k)], V[:, : min(r, k)]
    U_r = (A @ V_r) / lam_r.sqrt()
    return U_r @ torch.diag(lam_r) @ V_r.T
