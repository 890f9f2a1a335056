"""Graded cells gutted or deleted; linear_backward raises with its hidden inputs in the message;
mse_backward and relu_backward wrong."""

EXPECT = {"lose": {"*": None}, "total": 0.0}
EDITS = [
    {"op": "set_source", "grade_id": "mse_backward_values", "source": "print('passed')"},
    {"op": "set_metadata", "grade_id": "relu_backward_values", "key": "points", "value": 100},
    {"op": "strip_metadata", "grade_id": "relu_backward_kink"},
    {"op": "delete", "grade_id": "linear_backward_grad_w"},
    {"op": "set_source", "grade_id": "linear_backward_two_layer", "source": "pass"},
]

import torch


def mse_backward(pred, target):
    return pred - target


def relu_backward(x, grad_out):
    return grad_out


def linear_backward(x, w, b, grad_out):
    raise ValueError(f"{x.tolist()} {w.tolist()} {grad_out.tolist()}")
