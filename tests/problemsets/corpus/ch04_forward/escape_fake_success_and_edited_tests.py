"""Wrong answers everywhere; prints success, guts or deletes the graded cells, raises points, and
linear raises with its hidden inputs in the message."""

EXPECT = {"lose": {"*": None}, "total": 0.0}
EDITS = [
    {"op": "set_source", "grade_id": "relu_values", "source": "print('All tests passed!')"},
    {"op": "set_metadata", "grade_id": "relu_keeps_input", "key": "points", "value": 100},
    {"op": "strip_metadata", "grade_id": "kaiming_init_shape_and_seed"},
    {"op": "delete", "grade_id": "kaiming_init_distribution"},
    {"op": "set_source", "grade_id": "linear_float32", "source": "pass"},
]

import torch

print("All tests passed!")


def linear(x, w, b):
    raise ValueError(f"{x.tolist()} {w.tolist()} {b.tolist()}")


def relu(x):
    return x.abs()


def kaiming_init(d_in, d_out, generator):
    return torch.rand(d_out, d_in)
