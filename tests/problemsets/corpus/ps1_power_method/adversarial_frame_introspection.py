"""Tampering: walks up the call stack to reach the grader's frames."""

EXPECT = {"lose": {"*": "sys._getframe"}}

import sys

import torch


def power_method(A, k):
    frame = sys._getframe(1)
    frame.f_locals.clear()
    return torch.tensor(1.0)
