"""Honest but unusual: weights as nn.Parameter in two ParameterLists (all weights first, then
all biases), a helper for ReLU, imports of gc and pathlib, a scratch cell that trains the MLP
for a few steps, and the clone written to a temporary file and read back."""

EXPECT = {"full": True}

import gc
import math
import tempfile
from pathlib import Path

import torch
from torch import nn


def _relu(t):
    return torch.where(t > 0, t, torch.zeros_like(t))


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(d_in)
            self.weights.append(nn.Parameter(torch.empty(d_out, d_in).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(d_out).uniform_(-bound, bound)))

    def forward(self, x):
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w.T + b
            if i < last:
                x = _relu(x)
        return x


def count_parameters(module):
    gc.collect()
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.pt"
        torch.save(module.state_dict(), path)
        new = factory()
        new.load_state_dict(torch.load(path, weights_only=True))
    return new


# %% cell at end
net = MLP([3, 8, 1])
opt = torch.optim.SGD(net.parameters(), lr=0.1)
x, y = torch.randn(32, 3), torch.randn(32, 1)
for _ in range(5):
    opt.zero_grad()
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
print("scratch: loss", loss.item(), "parameters", count_parameters(net))
