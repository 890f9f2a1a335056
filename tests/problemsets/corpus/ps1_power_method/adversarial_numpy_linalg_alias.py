"""Shortcut: NumPy's eigh reached through a module alias and a variable."""

EXPECT = {"lose": {"*": "numpy.linalg.eigh"}}

import numpy as onp
import torch

la = onp.linalg


def power_method(A, k):
    values, _ = la.eigh(A.numpy())
    return torch.tensor(values[-1], dtype=A.dtype)
