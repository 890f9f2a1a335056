"""Wrong answers; replaces every graded test cell with pass and raises its points."""

EXPECT = {"lose": {"*": None}, "total": 0.0}
EDITS = [
    {"op": "set_source", "grade_id": "*tests", "source": "pass"},
    {"op": "set_metadata", "grade_id": "matmul_loops_float64", "key": "points", "value": 100},
]

import torch


def matmul_loops(a, b):
    return torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)


def matmul_broadcast(a, b):
    return torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)


def matmul_einsum(a, b):
    return torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)
