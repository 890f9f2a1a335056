"""A slow experiment (a timing loop of more than 30 s) in the answer cell, after the def."""

EXPECT = {"full": True, "row": "stopped after the 20 s time limit"}

import time

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.vector_norm(v)
    return v @ A @ v


start = time.monotonic()
while time.monotonic() - start < 40:  # "how many calls fit in 40 seconds?"
    power_method(torch.eye(3), 10)
