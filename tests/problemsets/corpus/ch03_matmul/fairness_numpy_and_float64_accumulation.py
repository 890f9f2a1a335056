"""Correct: matmul_loops over NumPy arrays with Python floats (accumulated in float64, rounded
once to the inputs' dtype: within the bound), matmul_broadcast in float64 then cast back,
matmul_einsum on a transposed copy."""

EXPECT = {"full": True}

import numpy as np
import torch


def matmul_loops(a, b):
    A, B = a.numpy(), b.numpy()
    m, k = A.shape
    n = B.shape[1]
    out = np.zeros((m, n))  # float64
    for i in range(m):
        for j in range(n):
            s = 0.0
            for p in range(k):
                s += float(A[i, p]) * float(B[p, j])
            out[i, j] = s
    return torch.from_numpy(out).to(a.dtype)


def matmul_broadcast(a, b):
    wide = a.double()[:, :, None] * b.double()[None, :, :]  # (m, k, n), float64
    return wide.sum(1).to(a.dtype)


def matmul_einsum(a, b):
    bt = b.t().contiguous()  # (n, k)
    return torch.einsum("ik,jk->ij", a, bt)
