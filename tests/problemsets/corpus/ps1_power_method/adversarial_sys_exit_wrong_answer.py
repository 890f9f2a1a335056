"""Wrong answer; calls sys.exit() and exit() so the kernel stops before the tests."""

EXPECT = {"lose": {"*": "eigenvector"}}

import sys

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    return v / v.norm()


# %% cell after power_method_answer
sys.exit(0)

# %% cell after power_method_answer
exit()
