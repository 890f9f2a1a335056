"""Shortcut: the Tensor.svd() method, inside a helper, after a real-looking iteration."""

EXPECT = {"lose": {"*": "svd"}}

import torch


def _polish(M, estimate):
    return M.svd()[1][0]


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return _polish(A, v @ A @ v)
