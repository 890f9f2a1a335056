"""relu_backward masks with x >= 0: slope 1 at the kink (the tutorial's mask)."""

EXPECT = {"lose": {"relu_backward_kink": "not x >= 0"}}

import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


def relu_backward(x, grad_out):
    return grad_out * (x >= 0)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
