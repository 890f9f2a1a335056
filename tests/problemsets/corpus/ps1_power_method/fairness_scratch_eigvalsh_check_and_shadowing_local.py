"""A scratch helper lam(A) = eigvalsh(A)[-1] to check the answer, and a local variable named
lam inside power_method (the helper is never called by it)."""

EXPECT = {"full": True}

import torch


def lam(A):
    return torch.linalg.eigvalsh(A)[-1]


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    lam = 0.0
    for _ in range(k):
        w = A @ v
        v = w / w.norm()
        lam = v @ A @ v
    return lam


# %% cell at end
B = torch.diag(torch.tensor([2.0, 5.0, 1.0], dtype=torch.float64))
print(power_method(B, 60), lam(B))
