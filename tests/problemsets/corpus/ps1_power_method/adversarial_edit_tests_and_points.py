"""Wrong answer; replaces every graded test with `pass`, sets points to 100 and turns the answer
cell into a graded cell worth 50 points."""

EXPECT = {"lose": {"*": "trace"}, "total": 0.0}
EDITS = [
    {"op": "set_source", "grade_id": "*tests", "source": "pass"},
    {"op": "set_metadata", "grade_id": "power_method_float64", "key": "points", "value": 100},
    {"op": "set_metadata", "grade_id": "power_method_answer", "key": "grade", "value": True},
    {"op": "set_metadata", "grade_id": "power_method_answer", "key": "points", "value": 50},
]

import torch


def power_method(A, k):
    return torch.trace(A)
