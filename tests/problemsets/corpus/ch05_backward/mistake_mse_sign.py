"""mse_backward differentiates by the target: 2 (target - pred) / N, the sign flipped."""

EXPECT = {
    "lose": {
        "mse_backward_values": "sign is flipped",
        "linear_backward_two_layer": "mse_backward is wrong",
    }
}

import torch


def mse_backward(pred, target):
    return 2 * (target - pred) / pred.numel()


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
