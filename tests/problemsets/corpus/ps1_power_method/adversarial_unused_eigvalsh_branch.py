"""A correct power method with an eigvalsh branch that never runs (a debugging leftover): graded
on its numbers, full points, review evidence names eigvalsh."""

EXPECT = {"full": True, "review": ["*"]}

import torch

DEBUG = False


def power_method(A, k):
    if DEBUG:
        return torch.linalg.eigvalsh(A)[-1]
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return v @ A @ v
