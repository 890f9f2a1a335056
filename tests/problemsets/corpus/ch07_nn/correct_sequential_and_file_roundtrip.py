"""MLP as one nn.Sequential built from a list (nn.ReLU modules between the Linear layers),
count_parameters with a loop over parameters(), the clone through torch.save / torch.load on an
in-memory buffer."""

EXPECT = {"full": True, "twin": True}

import io

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        layers = []
        for i in range(len(sizes) - 1):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def count_parameters(module):
    total = 0
    for p in module.parameters():
        if p.requires_grad:
            total += p.numel()
    return total


def clone_via_state_dict(module, factory):
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    new = factory()
    new.load_state_dict(torch.load(buffer, weights_only=True))
    return new
