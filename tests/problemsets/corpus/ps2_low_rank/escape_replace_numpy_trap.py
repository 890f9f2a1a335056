"""Replaces NumPy's SVD kernel (which the grader watches) with its own function."""

EXPECT = {"lose": {"*": "replaced"}}

import numpy as np
import torch


def best_rank_approximation(A, r):
    np.linalg._umath_linalg.svd_f = lambda *args, **kwargs: None
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]
