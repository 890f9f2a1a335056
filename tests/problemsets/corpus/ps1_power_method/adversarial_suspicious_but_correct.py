"""A correct power method in a notebook that imports ctypes and reads a frame: nothing forbidden
ran, so full points, and every part is sent to a person for review."""

EXPECT = {"full": True, "review": ["*"]}

import ctypes
import sys

import torch


def power_method(A, k):
    caller = sys._getframe(0).f_code.co_name
    assert caller == "power_method" and ctypes.sizeof(ctypes.c_double) == 8
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return v @ A @ v
