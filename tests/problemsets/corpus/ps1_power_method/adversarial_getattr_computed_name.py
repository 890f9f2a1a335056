"""Obfuscation: builds the name of eigvalsh at runtime and fetches it with getattr."""

EXPECT = {"lose": {"*": "computed attribute name"}}

import torch

NAME = "eig" + "valsh"


def power_method(A, k):
    return getattr(torch.linalg, NAME)(A)[-1]
