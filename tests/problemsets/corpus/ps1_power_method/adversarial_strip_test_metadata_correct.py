"""Correct answer; strips the nbgrader metadata of every test cell. Full marks: the cells come back."""

EXPECT = {"full": True}
EDITS = [
    {"op": "strip_metadata", "grade_id": "*tests"},
    {"op": "strip_metadata", "grade_id": "power_method_visible"},
]

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.vector_norm(v)
    return v @ A @ v
