"""linear_backward averages over the batch: grad_w and grad_b divided by n."""

EXPECT = {
    "lose": {
        "linear_backward_grad_w": "divided by n",
        "linear_backward_grad_b": "mean over the rows",
        "linear_backward_two_layer": "linear_backward is wrong",
    }
}

import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def linear_backward(x, w, b, grad_out):
    n = x.shape[0]
    return grad_out @ w.T, x.T @ grad_out / n, grad_out.mean(dim=0)
