"""Rayleigh quotient with torch.dot, a uniform (positive) start vector, returns a Python float."""

EXPECT = {"full": True}

import torch


def power_method(A, k):
    v = torch.rand(A.shape[0], dtype=A.dtype)
    v /= v.norm()
    for i in range(k):
        Av = torch.mv(A, v)
        v = Av / Av.norm()
    return torch.dot(v, torch.mv(A, v)).item()
