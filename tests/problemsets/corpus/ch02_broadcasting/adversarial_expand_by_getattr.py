"""Shortcut: broadcast_by_strides reaches Tensor.expand through getattr with a computed name
(values, strides and storage are right); the rest is correct."""

EXPECT = {
    "lose": {"broadcast_by_strides_contiguous": "expand", "broadcast_by_strides_views": "expand"},
    # the computed getattr name flags the parts whose score comes from their numbers
    "review": [
        "broadcast_shape_compatible",
        "broadcast_shape_errors",
        "pairwise_sq_distances_float64",
        "pairwise_sq_distances_float32",
    ],
}

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
    return getattr(t, "exp" + "and")(*shape)


def pairwise_sq_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
