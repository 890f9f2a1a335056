"""Shortcut: SciPy's eigvalsh under an alias, on a NumPy copy of A."""

EXPECT = {"lose": {"*": "scipy.linalg.eigvalsh"}}

import torch
from scipy.linalg import eigvalsh as values_of


def power_method(A, k):
    return float(values_of(A.numpy())[-1])
