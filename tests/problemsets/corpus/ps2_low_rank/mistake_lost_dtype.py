"""Computes in float64 and forgets to cast back: float32 input gives float64 output."""

EXPECT = {"lose": {"ps2_shape_dtype": "keep the dtype of A"}}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A.to(torch.float64), full_matrices=False)
    return (U[:, :r] * S[:r]) @ Vh[:r, :]
