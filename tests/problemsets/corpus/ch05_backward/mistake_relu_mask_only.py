"""relu_backward returns the mask 1[x > 0] without multiplying by grad_out."""

EXPECT = {
    "lose": {
        "relu_backward_values": "multiply it by grad_out",
        "relu_backward_kink": "multiply it by grad_out",
        "linear_backward_two_layer": "relu_backward is wrong",
    }
}

import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


def relu_backward(x, grad_out):
    return (x > 0).to(grad_out.dtype)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
