"""Correct: helpers, a callable class, ordinary modules (gc, pathlib, a file written), unsqueeze
instead of None, implicit einsum output, and a scratch cell that compares with @ (allowed
outside the graded functions)."""

EXPECT = {"full": True}

import gc
import pathlib
import tempfile

import torch


def shape_of(a, b):
    (m, k), (k2, n) = a.shape, b.shape
    assert k == k2, "inner dimensions differ"
    return m, k, n


class Accumulator:
    """Adds the products a[i, p] * b[p, j] into one entry."""

    def __call__(self, a, b, i, j, k):
        total = torch.zeros((), dtype=a.dtype)
        for p in range(k):
            total = total + a[i, p] * b[p, j]
        return total


ENTRY = Accumulator()


def matmul_loops(a, b):
    m, k, n = shape_of(a, b)
    gc.collect()
    c = torch.zeros((m, n), dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            c[i, j] = ENTRY(a, b, i, j, k)
    return c


def matmul_broadcast(a, b):
    terms = a.unsqueeze(2) * b.unsqueeze(0)  # (m, k, 1) * (1, k, n) -> (m, k, n)
    out = terms.sum(dim=1, keepdim=True).squeeze(1)  # (m, n)
    log = pathlib.Path(tempfile.gettempdir()) / "ch03_notes.txt"
    log.write_text(f"last product: {tuple(out.shape)}\n")
    return out


def matmul_einsum(a, b):
    return torch.einsum("ik, kj", a, b)  # implicit output: the free indices in order, ij


# %% cell at end
x = torch.randn(3, 4, dtype=torch.float64)
y = torch.randn(4, 2, dtype=torch.float64)
print((matmul_loops(x, y) - x @ y).abs().max(), torch.allclose(matmul_einsum(x, y), x @ y))
