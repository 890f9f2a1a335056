"""Wrong answers; replaces every graded test cell with pass and raises a part's points to 100.
The score is the hidden tests' partial credit alone (3 of 4 compatible pairs pass: 1.5)."""

EXPECT = {"lose": {"*": None}, "total": 1.5}
EDITS = [
    {"op": "set_source", "grade_id": "*tests", "source": "pass"},
    {"op": "set_metadata", "grade_id": "broadcast_shape_errors", "key": "points", "value": 100},
]

import torch


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
