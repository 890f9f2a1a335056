"""Correct: broadcast_shape by recursion on the last dimension, strides read once into NumPy,
distances with NumPy broadcasting converted back to a tensor."""

EXPECT = {"full": True}

import numpy as np
import torch


def broadcast_shape(shape_a, shape_b):
    if not shape_a:
        return tuple(shape_b)
    if not shape_b:
        return tuple(shape_a)
    p, q = shape_a[-1], shape_b[-1]
    if p != q and p != 1 and q != 1:
        raise ValueError(f"last dimensions {p} and {q} differ and neither is 1")
    head = broadcast_shape(shape_a[:-1], shape_b[:-1])
    return head + ((q if p == 1 else p),)


def broadcast_by_strides(t, shape):
    sizes = np.array([1] * (len(shape) - t.ndim) + list(t.shape))
    own = np.array([0] * (len(shape) - t.ndim) + list(t.stride()))
    strides = np.where(sizes == np.array(shape), own, 0)
    return t.as_strided(tuple(shape), tuple(int(s) for s in strides), t.storage_offset())


def pairwise_sq_distances(x, y):
    a, b = x.numpy(), y.numpy()
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1)  # (n, m)
    return torch.from_numpy(d)
