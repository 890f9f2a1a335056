"""Shortcut: broadcast_shape calls torch.broadcast_shapes under an alias, inside a helper (with
the ValueError that the exercise asks for); the rest is correct."""

EXPECT = {
    "lose": {
        "broadcast_shape_compatible": "torch.broadcast_shapes",
        "broadcast_shape_errors": "torch.broadcast_shapes",
    }
}

import torch
from torch import broadcast_shapes as combine


def _combine(a, b):
    try:
        return tuple(combine(a, b))
    except RuntimeError as err:
        raise ValueError(f"{a} and {b}: {err}") from None


def broadcast_shape(shape_a, shape_b):
    return _combine(tuple(shape_a), tuple(shape_b))


def broadcast_by_strides(t, shape):
    lead = len(shape) - t.ndim
    strides = [0] * lead
    for j in range(t.ndim):
        strides.append(t.stride(j) if t.shape[j] == shape[lead + j] else 0)
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
