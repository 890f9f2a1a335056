"""Layers registered one by one with add_module / setattr under names linear1, linear2, ...;
forward walks children(); the count through named_parameters() (which skips duplicates); the
clone loads a dict copy of the state."""

EXPECT = {"full": True}

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.depth = len(sizes) - 1
        for i, (d_in, d_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            self.add_module(f"linear{i}", nn.Linear(d_in, d_out))

    def forward(self, x):
        layers = list(self.children())
        for layer in layers[:-1]:
            x = layer(x).clamp(min=0)
        return layers[-1](x)


def count_parameters(module):
    return sum(p.numel() for _, p in module.named_parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    state = {name: tensor.clone() for name, tensor in module.state_dict().items()}
    fresh = factory()
    result = fresh.load_state_dict(state, strict=True)
    assert not result.missing_keys
    return fresh
