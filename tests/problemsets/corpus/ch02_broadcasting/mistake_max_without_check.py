"""broadcast_shape takes the larger size everywhere: no error for a clash, and 0 vs 1 gives 1."""

EXPECT = {
    "lose": {
        "broadcast_shape_compatible": "0 against 1 gives 0",
        "broadcast_shape_errors": "instead of raising ValueError",
    }
}

import torch


def broadcast_shape(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    a = (1,) * (n - len(shape_a)) + tuple(shape_a)
    b = (1,) * (n - len(shape_b)) + tuple(shape_b)
    return tuple(max(p, q) for p, q in zip(a, b))


def broadcast_by_strides(t, shape):
    lead = len(shape) - t.ndim
    strides = [0] * lead
    for j in range(t.ndim):
        strides.append(t.stride(j) if t.shape[j] == shape[lead + j] else 0)
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
