"""A wrong answer; test cells gutted, stripped of metadata, re-pointed or deleted."""

EXPECT = {"lose": {"*": None}, "total": 0.0}
EDITS = [
    {"op": "set_source", "grade_id": "ps2_shape_dtype", "source": "print('passed')"},
    {"op": "set_metadata", "grade_id": "ps2_rank", "key": "points", "value": 100},
    {"op": "strip_metadata", "grade_id": "ps2_optimal_square"},
    {"op": "delete", "grade_id": "ps2_optimal_rectangular"},
    {"op": "set_source", "grade_id": "ps2_edge_cases", "source": "pass"},
]

import torch


def best_rank_approximation(A, r):
    return torch.ones(3)
