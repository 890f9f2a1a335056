"""Masked assignment on a clone, the bias gradient as ones @ G, matmul by name, helpers in cells."""

EXPECT = {"full": True}

# %% solution mse_backward_answer
import torch


def _count(t):
    n = 1
    for size in t.shape:
        n *= size
    return n


def mse_backward(pred, target):
    diff = pred - target
    return diff * 2 / _count(pred)


# %% solution relu_backward_answer
def relu_backward(x, grad_out):
    g = grad_out.clone()
    g[x <= 0] = 0.0  # slope 0 at the kink too
    return g


# %% solution linear_backward_answer
def linear_backward(x, w, b, grad_out):
    ones = torch.ones(1, x.shape[0], dtype=x.dtype)  # (1, n)
    grad_b = torch.matmul(ones, grad_out).reshape(-1)  # (1, n) @ (n, d_out) -> (d_out,)
    return torch.matmul(grad_out, w.transpose(0, 1)), torch.mm(x.t(), grad_out), grad_b
