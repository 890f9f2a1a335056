"""Returns the trace of A (the sum of the eigenvalues)."""

EXPECT = {"lose": {"*": "trace"}}

import torch


def power_method(A, k):
    return torch.trace(A)
