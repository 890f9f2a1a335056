"""Correct, written in the three answer cells with a scratch cell after each that checks the work
with torch's own tools (gradcheck, autograd; allowed outside the graded code)."""

EXPECT = {"full": True}

# %% solution SoftplusFunction_answer
import torch


def _stable_softplus(x):
    return torch.clamp(x, min=0.0) + torch.log1p(torch.exp(-torch.abs(x)))


class SoftplusFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _stable_softplus(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.special.expit(x)


# %% cell after SoftplusFunction_answer
probe = torch.randn(5, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(SoftplusFunction.apply, (probe,)))

# %% solution central_difference_answer
import itertools


def central_difference(f, x, eps):
    grad = torch.zeros_like(x)
    for index in itertools.product(*(range(n) for n in x.shape)):
        up, down = x.clone(), x.clone()
        up[index] += eps
        down[index] -= eps
        grad[index] = (f(up) - f(down)) / (2 * eps)
    return grad


# %% cell after central_difference_answer
point = torch.tensor([[0.5, -1.0], [0.25, 2.0]], dtype=torch.float64)
print(central_difference(lambda t: (t**2).sum(), point, 1e-5), 2 * point)

# %% solution Value_answer
import math


class Value:
    def __init__(self, data, parents=(), backward=None):
        self.data = data
        self.grad = 0.0
        self.parents = parents
        self.push = backward or (lambda: None)

    @staticmethod
    def lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value.lift(other)
        out = Value(self.data + other.data, (self, other))

        def push():
            self.grad += out.grad
            other.grad += out.grad

        out.push = push
        return out

    def __mul__(self, other):
        other = Value.lift(other)
        out = Value(self.data * other.data, (self, other))

        def push():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out.push = push
        return out

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-Value.lift(other))

    def tanh(self):
        e2 = math.exp(2 * self.data)
        out = Value((e2 - 1) / (e2 + 1), (self,))

        def push():
            self.grad += (1 - out.data**2) * out.grad

        out.push = push
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))

        def push():
            self.grad += out.data * out.grad

        out.push = push
        return out

    def backward(self):
        topo, seen = [], set()

        def dfs(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for parent in node.parents:
                dfs(parent)
            topo.append(node)

        dfs(self)
        self.grad = 1.0
        for node in topo[::-1]:
            node.push()


# %% cell at end
a = Value(2.0)
b = a * a - a
b.backward()
print(b.data, a.grad)
