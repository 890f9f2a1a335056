"""mse_backward divides by the number of rows n instead of all N entries."""

EXPECT = {
    "lose": {
        "mse_backward_values": "number of rows",
        "linear_backward_two_layer": "mse_backward is wrong",
    }
}

import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.shape[0]


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
