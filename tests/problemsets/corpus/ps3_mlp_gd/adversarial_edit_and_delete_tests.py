"""Wrong answers; the graded test cells are gutted, stripped of metadata, re-pointed, or deleted."""

EXPECT = {"lose": {"*": None}, "total": 0.0}
EDITS = [
    {"op": "set_source", "grade_id": "ps3_sigmoid_values", "source": "print('passed')"},
    {"op": "set_metadata", "grade_id": "ps3_sigmoid_stable", "key": "points", "value": 100},
    {"op": "strip_metadata", "grade_id": "ps3_forward_batch"},
    {"op": "delete", "grade_id": "ps3_gradients_output"},
    {"op": "delete", "grade_id": "ps3_gradients_hidden"},
    {"op": "set_source", "grade_id": "ps3_train_losses", "source": "pass"},
    {"op": "strip_metadata", "grade_id": "ps3_train_updates"},
]

import torch


def sigmoid(z):
    return -z


def forward(x, W1, b1, W2, b2):
    return None


def mse_loss(pred, y):
    return None


def gradients(x, y, W1, b1, W2, b2):
    return None


def train(x, y, W1, b1, W2, b2, lr, steps):
    return None
