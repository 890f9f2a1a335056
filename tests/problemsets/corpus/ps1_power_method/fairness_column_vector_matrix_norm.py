"""A column vector v of shape (d, 1), normalised with torch.linalg.norm(w, ord=2): on a (d, 1)
matrix that is the matrix 2-norm (an SVD runs), which equals the vector norm: honest."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], 1, dtype=A.dtype)  # (d, 1)
    for _ in range(k):
        w = A @ v  # (d, 1)
        v = w / torch.linalg.norm(w, ord=2)
    return (v.T @ A @ v).squeeze()  # (1, 1) -> ()
