"""Correct answer that writes to stderr in every call, and a module-level warning."""

EXPECT = {"full": True}

import sys
import warnings

import torch

warnings.warn("a warning at import time")


def power_method(A, k):
    print("debug: starting power_method", file=sys.stderr)
    warnings.warn("RuntimeWarning-like message from power_method", RuntimeWarning)
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.vector_norm(v)
    return v @ A @ v
