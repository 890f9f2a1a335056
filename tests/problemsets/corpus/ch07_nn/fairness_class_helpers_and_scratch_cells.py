"""Honest but unusual: a helper that builds the layer list, an MLP that stores the last hidden
activation on self and keeps parameterless ReLU modules in a plain list, a numpy-flavoured count,
a clone helper class with __call__, a warning, and a scratch cell that prints a state_dict."""

EXPECT = {"full": True}

import warnings

import numpy as np
import torch
from torch import nn


def make_layers(sizes):
    return nn.ModuleList([nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)])


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.sizes = list(sizes)
        self.linears = make_layers(sizes)
        self.activations = [nn.ReLU() for _ in range(len(sizes) - 2)]  # no parameters: harmless
        self.last_hidden = None

    def forward(self, x):
        *hidden, out = self.linears
        for layer, act in zip(hidden, self.activations):
            x = act(layer(x))
        self.last_hidden = x
        return out(x)


def count_parameters(module):
    sizes = [np.prod(p.shape, dtype=np.int64) for p in module.parameters() if p.requires_grad]
    return int(np.sum(sizes, dtype=np.int64))


class Cloner:
    def __call__(self, module, factory):
        warnings.warn("cloning through state_dict", stacklevel=1)
        target = factory()
        target.load_state_dict(module.state_dict())
        return target


_cloner = Cloner()


def clone_via_state_dict(module, factory):
    return _cloner(module, factory)


# %% cell at end
print(MLP([2, 3, 1]).state_dict().keys())
