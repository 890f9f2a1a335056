"""Obfuscation: imports eigvalsh inside an exec() string; the runtime traps see it run anyway."""

EXPECT = {"lose": {"*": "torch.linalg.eigvalsh"}}

import torch

exec("from torch.linalg import eigvalsh as _e")


def power_method(A, k):
    return _e(A)[-1]  # noqa: F821
