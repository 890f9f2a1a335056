"""relu_backward takes the chapter's own function from fromscratch.layers through importlib and
getattr; mse_backward calls .backward() reached through getattr with a computed name."""

EXPECT = {
    "lose": {
        "mse_backward_values": "automatic differentiation",
        "relu_backward_values": "reference code",
        "relu_backward_kink": "reference code",
        "linear_backward_two_layer": None,
    },
    "review": ["linear_backward_grad_x"],
}

import importlib

import torch


def mse_backward(pred, target):
    p = pred.detach().clone().requires_grad_(True)
    loss = ((p - target) ** 2).mean()
    getattr(loss, "back" + "ward")()
    return p.grad


def relu_backward(x, grad_out):
    layers = importlib.import_module("fromscratch." + "layers")
    return getattr(layers, "relu_" + "backward")(x, grad_out)


def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
