"""Follows the seed text literally: returns ‖v‖ after normalising (always 1)."""

EXPECT = {"lose": {"*": "‖v‖ of a normalised vector"}}

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v / torch.linalg.norm(A @ v)
    return torch.linalg.norm(v)
