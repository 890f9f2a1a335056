"""Obfuscation: calls the aten kernel behind eigvalsh through torch.ops."""

EXPECT = {"lose": {"*": "_linalg_eigh"}}

import torch


def power_method(A, k):
    ops = torch.ops.aten
    return ops._linalg_eigh(A)[0][-1]
