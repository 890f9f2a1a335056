"""broadcast_shape pads the shorter shape on the RIGHT (aligns from the left)."""

EXPECT = {
    "lose": {
        "broadcast_shape_compatible": "from the right",
        "broadcast_shape_errors": "from the left",
    }
}

import torch


def broadcast_shape(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    a = tuple(shape_a) + (1,) * (n - len(shape_a))
    b = tuple(shape_b) + (1,) * (n - len(shape_b))
    out = []
    for j in range(n):
        if a[j] != b[j] and 1 not in (a[j], b[j]):
            raise ValueError(f"sizes {a[j]} and {b[j]} clash at dimension {j}")
        out.append(b[j] if a[j] == 1 else a[j])
    return tuple(out)


def broadcast_by_strides(t, shape):
    lead = len(shape) - t.ndim
    strides = [0] * lead
    for j in range(t.ndim):
        strides.append(t.stride(j) if t.shape[j] == shape[lead + j] else 0)
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
