"""A generator of iterates, consumed with functools.reduce."""

EXPECT = {"full": True}

import functools
import itertools

import torch


def iterates(A, v):
    while True:
        v = A @ v
        v = v / v.norm()
        yield v


def power_method(A, k):
    start = torch.randn(A.shape[0], dtype=A.dtype)
    last = functools.reduce(lambda _, v: v, itertools.islice(iterates(A, start), k), start)
    return last @ A @ last
