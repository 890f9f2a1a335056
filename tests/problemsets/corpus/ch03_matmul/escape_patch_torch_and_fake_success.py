"""Wrong answers everywhere (the transpose, a missing sum, a wrong bound); prints success, and
replaces torch.equal, torch.allclose and Fraction so that every comparison in the notebook says
yes."""

EXPECT = {
    "lose": {
        "matmul_loops_float64": None,
        "matmul_loops_float32": "instead of k",
        "matmul_broadcast_float64": "(m, k, n)",
        "matmul_broadcast_float32": "(m, k, n)",
        "matmul_einsum_float64": "transpose",
        "matmul_einsum_float32": "transpose",
    }
}

import fractions

import torch

print("All tests passed!")
torch.equal = lambda *args, **kwargs: True
torch.allclose = lambda *args, **kwargs: True
fractions.Fraction = lambda *args, **kwargs: 0


def matmul_loops(a, b):
    m, n = a.shape[0], b.shape[1]
    c = torch.zeros(m, n, dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            for p in range(m):
                c[i, j] += a[i, p] * b[p, j]
    return c


def matmul_broadcast(a, b):
    return a[:, :, None] * b[None, :, :]


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ji", a, b)
