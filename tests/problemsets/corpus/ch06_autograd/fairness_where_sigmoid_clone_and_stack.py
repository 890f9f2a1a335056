"""Correct by other routes: softplus with torch.where and torch.sigmoid, central differences on
x.clone() with a basis tensor, and a Value whose backward sorts the graph with an explicit stack
(no recursion); a scratch cell compares with torch autograd (allowed outside the graded code)."""

EXPECT = {"full": True}

import math

import torch


class SoftplusFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        positive = x + torch.log1p(torch.exp(-x.abs()))
        negative = torch.log1p(torch.exp(-x.abs()))
        return torch.where(x > 0, positive, negative)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


def central_difference(f, x, eps):
    grad = torch.empty_like(x)
    for index in range(x.numel()):
        basis = torch.zeros(x.numel(), dtype=x.dtype)
        basis[index] = eps
        step = basis.reshape(x.shape)
        up, down = f(x.clone() + step), f(x.clone() - step)
        grad.view(-1)[index] = (up - down) / (2 * eps)
    return grad


class Value:
    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self.children = children
        self.local_grads = local_grads  # d(self)/d(child), one per child

    def __add__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    __rmul__ = __mul__

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t**2,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def backward(self):
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node.children)
        self.grad = 1
        for node in reversed(order):
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * node.grad


# %% cell at end
a, b = Value(0.5), Value(-1.5)
out = (a * b + a).tanh() * 2
out.backward()
ta = torch.tensor(0.5, requires_grad=True)
tb = torch.tensor(-1.5, requires_grad=True)
(torch.tanh(ta * tb + ta) * 2).backward()
print(a.grad, float(ta.grad), b.grad, float(tb.grad))
