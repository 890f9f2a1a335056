"""Correct power method; a scratch cell compares it with torch.linalg.eigvalsh (allowed outside
power_method: only the graded function may not use it)."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        w = A @ v
        v = w / torch.linalg.vector_norm(w)
    return torch.dot(v, A @ v)


# %% cell after power_method_answer
from torch.linalg import eigvalsh

X = torch.randn(5, 5, dtype=torch.float64)
S = X @ X.T
print(power_method(S, 200).item(), eigvalsh(S)[-1].item())
