"""clone_via_state_dict returns what load_state_dict returns (a report of keys), not the module."""

EXPECT = {
    "lose": {
        "clone_via_state_dict_outputs": "report of missing and unexpected keys",
        "clone_via_state_dict_independent": "_IncompatibleKeys",
        "clone_via_state_dict_buffers": "_IncompatibleKeys",
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
    return factory().load_state_dict(module.state_dict())
