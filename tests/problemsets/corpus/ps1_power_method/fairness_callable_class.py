"""A class with __call__ doing the iteration; power_method is an instance of it."""

EXPECT = {"full": True}

import torch


class PowerMethod:
    def __init__(self, normalise):
        self.normalise = normalise

    def __call__(self, A, k):
        v = torch.randn(A.shape[0], dtype=A.dtype)
        for _ in range(k):
            v = self.normalise(A @ v)
        return v @ A @ v


power_method = PowerMethod(lambda w: w / w.norm())
