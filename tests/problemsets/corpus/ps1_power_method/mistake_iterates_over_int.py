"""Loops `for i in k` over an int: TypeError on every call."""

EXPECT = {"lose": {"*": "raised TypeError"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for i in k:
        v = A @ v
        v = v / v.norm()
    return v @ A @ v
