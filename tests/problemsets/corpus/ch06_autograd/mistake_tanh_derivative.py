"""Value.tanh's backward uses 1 - t instead of 1 - t**2."""

EXPECT = {"lose": {"Value_tanh_exp": "tanh derivative"}}

import math

import torch


class SoftplusFunction(torch.autograd.Function):
    """softplus(x) = log(1 + e^x) with a hand-written backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))  # (shape of x), no overflow

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        z = torch.exp(-x.abs())  # in (0, 1]
        sig = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))  # sigmoid(x), stable
        return grad_output * sig


def central_difference(f, x, eps):
    grad = torch.zeros_like(x)  # (shape of x), float64
    flat_x, flat_g = x.view(-1), grad.view(-1)  # views: writing flat_x[k] changes x
    for k in range(x.numel()):
        original = flat_x[k].item()
        flat_x[k] = original + eps
        f_plus = float(f(x))
        flat_x[k] = original - eps
        f_minus = float(f(x))
        flat_x[k] = original  # restore x
        flat_g[k] = (f_plus - f_minus) / (2 * eps)
    return grad


class Value:
    def __init__(self, data, _children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):  # other + self
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        e = math.exp(self.data)
        out = Value(e, (self,))

        def _backward():
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def build(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    build(child)
                order.append(node)  # after all its children: a topological order

        build(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
