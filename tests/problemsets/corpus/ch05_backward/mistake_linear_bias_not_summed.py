"""linear_backward returns grad_out itself as grad_b (forgets to sum over the batch)."""

EXPECT = {
    "lose": {
        "linear_backward_grad_b": "sum grad_out over the batch",
        "linear_backward_two_layer": "grad_b has shape",
    }
}

import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out
