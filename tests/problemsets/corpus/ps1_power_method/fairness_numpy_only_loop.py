"""NumPy only: the matrix converted once, a plain Python loop, the result back as a float."""

EXPECT = {"full": True}

import numpy as np


def power_method(A, k):
    M = A.numpy().astype(np.float64)
    v = np.random.default_rng(0).standard_normal(M.shape[0])
    for _ in range(k):
        w = M @ v
        v = w / np.sqrt(np.dot(w, w))
    return float(v @ M @ v)
