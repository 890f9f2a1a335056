"""Wrong answers, plus a cell that rigs torch's comparisons and prints fake success."""

EXPECT = {"lose": {"*": None}, "total": 0.0}

import torch


def mse_backward(pred, target):
    return torch.zeros_like(pred)


def relu_backward(x, grad_out):
    return torch.zeros_like(x)


def linear_backward(x, w, b, grad_out):
    return torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(b)


# %% cell after linear_backward_answer
import builtins
import math

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.Tensor.norm = lambda self, *args, **kwargs: torch.tensor(0.0)
torch.isfinite = lambda t: torch.ones_like(t, dtype=torch.bool)
math.isclose = lambda *args, **kwargs: True
builtins.float = lambda value=0.0: 0.0
print("All tests passed! Score: 10/10")
