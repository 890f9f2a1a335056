"""Correct, but prints a UserWarning on stderr at every call: warnings must not cost points."""

EXPECT = {"full": True}

import warnings

import torch


def best_rank_approximation(A, r):
    warnings.warn("computing a full SVD, this may be slow for big matrices")
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ torch.diag_embed(S[:r]) @ Vh[:r]
