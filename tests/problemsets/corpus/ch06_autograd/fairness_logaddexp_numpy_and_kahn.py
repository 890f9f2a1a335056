"""Correct by other routes: softplus with torch.logaddexp that saves its output (backward uses
-expm1(-y), which is sigmoid(x) without cancellation), central differences computed into a NumPy
array, a Value with a Kahn-style topological order (counts of users) and helper functions; imports
gc and pathlib and writes a note file."""

EXPECT = {"full": True}

import gc
import math
import pathlib
import tempfile

import numpy as np
import torch


class SoftplusFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.logaddexp(x, torch.zeros_like(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * -torch.expm1(-y)  # 1 - exp(-softplus(x)) = sigmoid(x)


def _nudged(x, k, delta):
    moved = x.detach().clone().reshape(-1)
    moved[k] += delta
    return moved.reshape(x.shape)


def central_difference(f, x, eps):
    gc.collect()
    out = np.zeros(x.numel())
    for k in range(x.numel()):
        out[k] = (float(f(_nudged(x, k, eps))) - float(f(_nudged(x, k, -eps)))) / (2 * eps)
    note = pathlib.Path(tempfile.gettempdir()) / "ch06_note.txt"
    note.write_text(f"{x.numel()} entries\n")
    return torch.from_numpy(out).reshape(x.shape)


def _as_value(v):
    return v if isinstance(v, Value) else Value(v)


class Value:
    def __init__(self, data, _prev=(), _op=""):
        self.data, self.grad, self._prev, self._op = float(data), 0.0, list(_prev), _op
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def back():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = back
        return out

    def __radd__(self, other):
        return _as_value(other) + self

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = back
        return out

    def __rmul__(self, other):
        return _as_value(other) * self

    def tanh(self):
        out = Value((math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1), (self,), "tanh")

        def back():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = back
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def back():
            self.grad += out.data * out.grad

        out._backward = back
        return out

    def backward(self):
        users, seen, todo = {}, {id(self)}, [self]
        nodes = {id(self): self}
        while todo:
            node = todo.pop()
            for child in node._prev:
                users[id(child)] = users.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    nodes[id(child)] = child
                    todo.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            node._backward()
            for child in node._prev:
                users[id(child)] -= 1
                if users[id(child)] == 0:
                    ready.append(child)
