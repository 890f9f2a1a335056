"""NumPy's SVD, converted back to a tensor of A's dtype."""

EXPECT = {"full": True}

import numpy as np
import torch


def best_rank_approximation(A, r):
    U, S, Vt = np.linalg.svd(A.numpy(), full_matrices=False)
    return torch.from_numpy((U[:, :r] * S[:r]) @ Vt[:r]).to(A.dtype)
