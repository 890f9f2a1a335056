"""broadcast_shape raises ValueError, but the message does not say which sizes clash."""

EXPECT = {"lose": {"broadcast_shape_errors": "does not name both"}}

import torch


def broadcast_shape(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    a = (1,) * (n - len(shape_a)) + tuple(shape_a)
    b = (1,) * (n - len(shape_b)) + tuple(shape_b)
    out = []
    for p, q in zip(a, b):
        if p != q and 1 not in (p, q):
            raise ValueError("the shapes are not compatible")
        out.append(q if p == 1 else p)
    return tuple(out)


def broadcast_by_strides(t, shape):
    lead = len(shape) - t.ndim
    strides = [0] * lead
    for j in range(t.ndim):
        strides.append(t.stride(j) if t.shape[j] == shape[lead + j] else 0)
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
