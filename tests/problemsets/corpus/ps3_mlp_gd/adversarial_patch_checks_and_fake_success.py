"""Wrong answers, plus a cell that rigs every check the tests could use and prints fake success."""

EXPECT = {"lose": {"*": None}, "total": 0.0, "twin": True}

import torch


def sigmoid(z):
    return z


def forward(x, W1, b1, W2, b2):
    return x


def mse_loss(pred, y):
    return torch.tensor(0.0)


def gradients(x, y, W1, b1, W2, b2):
    return W1, b1, W2, b2


def train(x, y, W1, b1, W2, b2, lr, steps):
    return [0.0] * steps


# %% cell after ps3_sigmoid_solution
import builtins
import math

import torch.testing

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isfinite = lambda t: torch.ones_like(t, dtype=torch.bool)
torch.testing.assert_close = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True
builtins.abs = lambda value: 0.0
builtins.isinstance = lambda obj, cls: True
try:
    shell = get_ipython()  # noqa: F821
    shell.showtraceback = lambda *args, **kwargs: None
    shell._showtraceback = lambda *args, **kwargs: None
except NameError:
    pass
print("All tests passed! Score: 20/20")
