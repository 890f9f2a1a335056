"""torch.where for the mask, einsum for the products, the mean written as pred.numel()."""

EXPECT = {"full": True, "twin": True}

import torch


def mse_backward(pred, target):
    return (pred - target) * (2.0 / pred.numel())


def relu_backward(x, grad_out):
    return torch.where(x > 0, grad_out, torch.zeros_like(grad_out))


def linear_backward(x, w, b, grad_out):
    grad_x = torch.einsum("ij,kj->ik", grad_out, w)  # G w^T
    grad_w = torch.einsum("ik,ij->kj", x, grad_out)  # x^T G
    grad_b = torch.einsum("ij->j", grad_out)  # row sums
    return grad_x, grad_w, grad_b
