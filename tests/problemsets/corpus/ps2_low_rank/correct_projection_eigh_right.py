"""Projection A V_r V_rᵀ with V from torch.linalg.eigh(AᵀA), in the input dtype (float32 too)."""

EXPECT = {"full": True}

import torch


def best_rank_approximation(A, r):
    evals, V = torch.linalg.eigh(A.T @ A)
    Vr = V[:, V.shape[1] - r :] if r < V.shape[1] else V
    return A @ Vr @ Vr.T
