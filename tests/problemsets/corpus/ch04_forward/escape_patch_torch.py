"""Wrong answers; replaces torch.equal, torch.allclose, Tensor.__eq__, Tensor.mean and Tensor.var
so that every comparison and statistic in the notebook looks right."""

EXPECT = {"lose": {"*": None}}

import torch

torch.equal = lambda *args, **kwargs: True
torch.allclose = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: torch.ones(self.shape, dtype=torch.bool)
torch.Tensor.mean = lambda self, *args, **kwargs: torch.tensor(0.0)
torch.Tensor.var = lambda self, *args, **kwargs: torch.tensor(1.0)


def linear(x, w, b):
    return x @ w


def relu(x):
    return x.abs()


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out)
