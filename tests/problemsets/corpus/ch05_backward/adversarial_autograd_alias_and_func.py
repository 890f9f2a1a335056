"""mse_backward uses torch.autograd.grad under an alias; linear_backward uses torch.func.vjp
through a helper; relu_backward is honest."""

EXPECT = {
    "lose": {
        "mse_backward_values": "automatic differentiation",
        "linear_backward_grad_x": "automatic differentiation",
        "linear_backward_grad_w": "automatic differentiation",
        "linear_backward_grad_b": "automatic differentiation",
        "linear_backward_two_layer": "automatic differentiation",
    }
}

import torch
from torch.autograd import grad as differentiate
from torch.func import vjp as pullback


def mse_backward(pred, target):
    p = pred.detach().clone().requires_grad_(True)
    (g,) = differentiate(((p - target) ** 2).mean(), p)
    return g


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def _layer_vjp(x, w, b, grad_out):
    _, back = pullback(lambda x, w, b: x @ w + b, x, w, b)
    return back(grad_out)


def linear_backward(x, w, b, grad_out):
    return tuple(_layer_vjp(x, w, b, grad_out))
