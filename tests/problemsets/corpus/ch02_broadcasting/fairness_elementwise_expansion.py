"""Correct by other routes: zip_longest over reversed shapes, torch.as_strided as a function,
and the expansion |x|^2 - 2 sum(x*y) + |y|^2 with elementwise products (allowed)."""

EXPECT = {"full": True}

from itertools import zip_longest

import torch


def broadcast_shape(shape_a, shape_b):
    out = []
    for k, (p, q) in enumerate(zip_longest(reversed(shape_a), reversed(shape_b), fillvalue=1)):
        if p != q and p != 1 and q != 1:
            raise ValueError(f"sizes {p} and {q} clash at dimension {-k - 1}")
        out.append(q if p == 1 else p)
    return tuple(reversed(out))


def broadcast_by_strides(t, shape):
    k = len(shape) - t.ndim
    strides = tuple(
        0 if j < k or t.size(j - k) == 1 and shape[j] != 1 else t.stride(j - k)
        for j in range(len(shape))
    )
    return torch.as_strided(t, shape, strides, storage_offset=t.storage_offset())


def pairwise_sq_distances(x, y):
    xx = (x * x).sum(-1)[:, None]  # (n, 1)
    yy = (y * y).sum(-1)[None, :]  # (1, m)
    xy = (x[:, None, :] * y[None, :, :]).sum(-1)  # (n, m), no matmul
    return xx - 2 * xy + yy
