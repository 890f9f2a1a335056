"""Obfuscation: builds the name of eigvalsh at runtime; the runtime traps see it run anyway."""

EXPECT = {"lose": {"*": "torch.linalg.eigvalsh"}}

import torch

NAME = "eig" + "valsh"


def power_method(A, k):
    return getattr(torch.linalg, NAME)(A)[-1]
