"""mse_backward forgets the factor 2 of the derivative of the square."""

EXPECT = {
    "lose": {
        "mse_backward_values": "factor 2 is missing",
        "linear_backward_two_layer": "mse_backward is wrong",
    }
}

import torch


def mse_backward(pred, target):
    return (pred - target) / pred.numel()


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
