"""count_parameters counts every parameter, frozen ones included (forgets requires_grad)."""

EXPECT = {"lose": {"count_parameters_values": "frozen"}}

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
    return sum(p.numel() for p in module.parameters())


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
