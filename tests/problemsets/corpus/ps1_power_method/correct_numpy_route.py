"""Does the iteration in NumPy (vector norms only) and returns a NumPy float."""

EXPECT = {"full": True}

import numpy as np
import torch


def power_method(A, k):
    a = A.numpy()
    rng = np.random.default_rng(0)
    v = rng.standard_normal(a.shape[0]).astype(a.dtype)
    for _ in range(k):
        w = a @ v
        v = w / np.linalg.norm(w)
    return np.float64(v @ a @ v)
