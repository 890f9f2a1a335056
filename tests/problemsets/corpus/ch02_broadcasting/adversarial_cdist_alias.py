"""Shortcut: pairwise_sq_distances squares torch.cdist, imported under another name."""

EXPECT = {
    "lose": {"pairwise_sq_distances_float64": "cdist", "pairwise_sq_distances_float32": "cdist"}
}

import torch
from torch import cdist as spread


def broadcast_shape(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    a = (1,) * (n - len(shape_a)) + tuple(shape_a)
    b = (1,) * (n - len(shape_b)) + tuple(shape_b)
    out = []
    for j in range(n):
        if a[j] != b[j] and 1 not in (a[j], b[j]):
            raise ValueError(f"sizes {a[j]} and {b[j]} clash at dimension {j - n}")
        out.append(b[j] if a[j] == 1 else a[j])
    return tuple(out)


def broadcast_by_strides(t, shape):
    lead = len(shape) - t.ndim
    strides = [0] * lead
    for j in range(t.ndim):
        strides.append(t.stride(j) if t.shape[j] == shape[lead + j] else 0)
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return spread(x, y) ** 2
