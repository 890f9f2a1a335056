"""broadcast_by_strides computes the strides of a contiguous tensor of t's shape instead of reading t.stride()."""

EXPECT = {"lose": {"broadcast_by_strides_views": "strides of a contiguous tensor"}}

import torch


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
    own, step = [], 1
    for size in reversed(t.shape):  # strides as if t were contiguous
        own.insert(0, step)
        step *= size
    lead = len(shape) - t.ndim
    strides = [0] * lead + [s if t.shape[j] == shape[lead + j] else 0 for j, s in enumerate(own)]
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
