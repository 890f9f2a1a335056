"""Wrong forward (ReLU after the last layer) and a clone that never loads the state, plus a cell
that rigs torch's comparisons and replaces builtins.float (which breaks torch itself, so every
call fails) and prints fake success."""

EXPECT = {"lose": {"*": None}, "total": 0.0}

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    return factory()


# %% cell after clone_via_state_dict_answer
import builtins
import math

torch.equal = lambda *args, **kwargs: True
torch.allclose = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: True
math.isclose = lambda *args, **kwargs: True
builtins.float = lambda value=0.0: 0.0
print("All tests passed! Score: 10/10")
