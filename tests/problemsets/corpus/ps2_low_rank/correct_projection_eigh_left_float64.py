"""Projection U_r U_rᵀ A with eigh(AAᵀ) computed in float64 and cast back."""

EXPECT = {"full": True}

import torch


def best_rank_approximation(A, r):
    A64 = A.double()
    evals, U = torch.linalg.eigh(A64 @ A64.T)
    order = torch.argsort(evals, descending=True)
    Ur = U[:, order[:r]]
    return (Ur @ (Ur.T @ A64)).to(A.dtype)
