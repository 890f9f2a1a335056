"""Correct answer, then a cell that kills the kernel with os._exit(0): keeps its points."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        w = A @ v
        v = w / torch.linalg.vector_norm(w)
    return v @ A @ v


# %% cell at end
import os

os._exit(0)
