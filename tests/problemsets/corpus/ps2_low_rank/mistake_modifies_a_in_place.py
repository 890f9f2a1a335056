"""Writes the result into A (A.copy_) and returns A."""

EXPECT = {"lose": {"ps2_shape_dtype": "in place"}}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    A.copy_((U[:, :r] * S[:r]) @ Vh[:r, :])
    return A
