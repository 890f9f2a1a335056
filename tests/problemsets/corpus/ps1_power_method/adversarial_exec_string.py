"""Obfuscation: imports eigvalsh inside an exec() string so that no name appears in the code."""

EXPECT = {"lose": {"*": "exec()"}}

import torch

exec("from torch.linalg import eigvalsh as _e")


def power_method(A, k):
    return _e(A)[-1]  # noqa: F821
