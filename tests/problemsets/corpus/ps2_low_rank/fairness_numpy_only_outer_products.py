"""NumPy only: np.linalg.svd, then a Python loop of outer products, back to a tensor."""

EXPECT = {"full": True}

import numpy as np
import torch


def best_rank_approximation(A, r):
    M = A.double().numpy()
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    out = np.zeros_like(M)
    for i in range(min(r, len(S))):
        out += S[i] * np.outer(U[:, i], Vt[i])
    return torch.from_numpy(out).to(A.dtype)
