"""getattr under another name (g = getattr), so that no getattr(...) call appears."""

EXPECT = {"lose": {"*": "eigvalsh"}}

import torch

g = getattr


def power_method(A, k):
    return g(torch.linalg, "eigvalsh")(A)[-1]
