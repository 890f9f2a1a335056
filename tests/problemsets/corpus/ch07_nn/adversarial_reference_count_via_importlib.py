"""count_parameters sums the rows of the course's own fromscratch.modules.count_parameters,
reached through importlib under another name; MLP and the clone are honest."""

EXPECT = {
    "lose": {"count_parameters_values": "reference code"},
    "review": [
        "MLP_registration",
        "MLP_forward",
        "clone_via_state_dict_outputs",
        "clone_via_state_dict_independent",
        "clone_via_state_dict_buffers",
    ],
}

import importlib

import torch
from torch import nn

_helpers = importlib.import_module("fromscratch.modules")
_table = _helpers.count_parameters


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


def count_parameters(module):
    return sum(n for _, _, n in _table(module) if dict(module.named_parameters())[_] is not None)


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
