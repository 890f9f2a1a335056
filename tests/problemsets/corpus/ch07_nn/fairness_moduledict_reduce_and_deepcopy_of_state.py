"""Honest but unusual: an nn.ModuleDict of layers, forward with functools.reduce and
F.relu, count_parameters with a set of ids (deduplicating by hand) and math.prod of the shapes,
the clone loading copy.deepcopy of the state_dict."""

EXPECT = {"full": True}

import copy
import functools
import math

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.blocks = nn.ModuleDict(
            {f"layer_{i}": nn.Linear(a, b) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))}
        )

    def forward(self, x):
        blocks = list(self.blocks.values())
        h = functools.reduce(lambda h, layer: F.relu(layer(h)), blocks[:-1], x)
        return blocks[-1](h)


def count_parameters(module):
    seen, total = set(), 0
    for p in module.parameters(recurse=True):
        if p.requires_grad and id(p) not in seen:
            seen.add(id(p))
            total += math.prod(p.shape)
    return total


def clone_via_state_dict(module, factory):
    twin = factory()
    twin.load_state_dict(copy.deepcopy(module.state_dict()))
    return twin
