"""linear_backward returns grad_w in nn.Linear's layout, grad_out.T @ x: (d_out, d_in)."""

EXPECT = {
    "lose": {
        "linear_backward_grad_w": "nn.Linear's convention",
        "linear_backward_two_layer": "grad_w has shape",
    }
}

import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, grad_out.T @ x, grad_out.sum(0)
