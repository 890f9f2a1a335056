"""Wrong answers everywhere; prints success, and replaces torch.equal, torch.allclose and
Tensor.stride so that every comparison in the notebook says yes."""

EXPECT = {
    "lose": {
        "broadcast_shape_compatible": "0 against 1",
        "broadcast_shape_errors": "instead of raising",
        "broadcast_by_strides_contiguous": None,
        "broadcast_by_strides_views": None,
        "pairwise_sq_distances_float64": "square",
        "pairwise_sq_distances_float32": "square",
    }
}

import torch

print("All tests passed!")
torch.equal = lambda *args, **kwargs: True
torch.allclose = lambda *args, **kwargs: True
torch.Tensor.stride = lambda self, *args: (0,) * self.ndim


def broadcast_shape(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    a = (1,) * (n - len(shape_a)) + tuple(shape_a)
    b = (1,) * (n - len(shape_b)) + tuple(shape_b)
    return tuple(max(p, q) for p, q in zip(a, b))


def broadcast_by_strides(t, shape):
    lead = len(shape) - t.ndim
    strides = [0] * lead + list(t.stride())
    return t.as_strided(tuple(shape), strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    return (x[:, None, :] - y[None, :, :]).sum(-1)
