"""Computes the estimate but forgets to return it."""

EXPECT = {"lose": {"*": "forget `return`"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    estimate = v @ A @ v
