"""count_parameters sums the state_dict: counts BatchNorm buffers and the tied weight twice."""

EXPECT = {"lose": {"count_parameters_values": "buffers"}}

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


def count_parameters(module):
    return sum(t.numel() for t in module.state_dict().values())


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
