"""Forgets the ReLU: a stack of Linear layers (one linear map). Only the one-layer case passes."""

EXPECT = {"lose": {"MLP_forward": "no ReLU between the layers"}, "score": {"MLP_forward": 0.5}}

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
