"""clone_via_state_dict returns factory() without loading the state: a fresh initialisation."""

EXPECT = {
    "lose": {
        "clone_via_state_dict_outputs": "load them with",
        "clone_via_state_dict_buffers": "running statistics",
    }
}

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
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    return factory()
