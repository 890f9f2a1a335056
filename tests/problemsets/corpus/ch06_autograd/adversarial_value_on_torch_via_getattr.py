"""Shortcut: Value wraps float64 torch tensors and its backward() runs torch's own backward,
reached through getattr with a computed name (the numbers are right); the rest is correct."""

EXPECT = {
    "lose": {
        "Value_arithmetic": "autograd",
        "Value_shared_nodes": "autograd",
        "Value_tanh_exp": "autograd",
    },
    "review": [
        "SoftplusFunction_forward",
        "SoftplusFunction_backward",
        "central_difference_vector",
        "central_difference_matrix",
    ],
}

import torch


class SoftplusFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


def central_difference(f, x, eps):
    grad = torch.zeros_like(x)
    for k in range(x.numel()):
        step = torch.zeros_like(x).reshape(-1)
        step[k] = eps
        step = step.reshape(x.shape)
        grad.reshape(-1)[k] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


class Value:
    def __init__(self, data, tensor=None):
        if tensor is None:
            tensor = torch.tensor(float(data), dtype=torch.float64, requires_grad=True)
        self.t = tensor

    @property
    def data(self):
        return float(self.t.detach())

    @property
    def grad(self):
        return 0.0 if self.t.grad is None else float(self.t.grad)

    def _wrap(self, other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        return Value(None, self.t + self._wrap(other).t)

    def __mul__(self, other):
        return Value(None, self.t * self._wrap(other).t)

    __radd__ = __add__
    __rmul__ = __mul__

    def tanh(self):
        return Value(None, torch.tanh(self.t))

    def exp(self):
        return Value(None, torch.exp(self.t))

    def backward(self):
        getattr(self.t, "back" + "ward")()
