"""Correct, in loop style: helpers, a while loop from the right, rows of distances stacked."""

EXPECT = {"full": True, "twin": True}

import torch


def _size_at(shape, k):
    """Size of the k-th dimension from the right (1 when missing)."""
    return shape[-k] if k <= len(shape) else 1


def broadcast_shape(shape_a, shape_b):
    out = []
    k = 1
    while k <= max(len(shape_a), len(shape_b)):
        p, q = _size_at(shape_a, k), _size_at(shape_b, k)
        if p == q or q == 1:
            out.insert(0, p)
        elif p == 1:
            out.insert(0, q)
        else:
            raise ValueError(f"dimension -{k}: size {p} does not match size {q}")
        k += 1
    return tuple(out)


def _view_strides(t, shape):
    lead = len(shape) - t.dim()
    strides = []
    for j in range(len(shape)):
        if j < lead or t.shape[j - lead] != shape[j]:
            strides.append(0)
        else:
            strides.append(t.stride()[j - lead])
    return strides


def broadcast_by_strides(t, shape):
    return torch.as_strided(t, tuple(shape), _view_strides(t, shape), t.storage_offset())


def pairwise_sq_distances(x, y):
    rows = []
    for i in range(x.shape[0]):
        diff = x[i] - y  # (d,) - (m, d) -> (m, d)
        rows.append((diff**2).sum(dim=1))  # (m,)
    return torch.stack(rows)  # (n, m)
