"""Wrong answer plus patching the builtins module itself (abs, float): graded on its numbers."""

EXPECT = {"lose": {"*": "‖v‖"}}

import builtins

import torch

builtins.abs = lambda x: 0.0
builtins.float = lambda x=0.0: 3.0


def power_method(A, k):
    return torch.tensor(1.0, dtype=A.dtype)
