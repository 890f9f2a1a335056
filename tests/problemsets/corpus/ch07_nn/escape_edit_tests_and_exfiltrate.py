"""Gutted graded cells and a forward that raises with the hidden input in its message (to read
it from the feedback); the layers are in a plain list."""

EXPECT = {"lose": {"MLP_registration": None, "MLP_forward": None}}
EDITS = [
    {"op": "set_source", "grade_id": "MLP_registration", "source": "pass"},
    {"op": "set_source", "grade_id": "MLP_forward", "source": "print('passed')"},
]

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.anchor = nn.Linear(1, 1)

    def forward(self, x):
        raise ValueError(f"leak {x.tolist()} {[repr(v) for v in x.reshape(-1).tolist()]}")


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
