"""Shortcut: kaiming_init calls a helper that uses torch.nn.init.kaiming_normal_ with the
generator (right distribution, right layout); linear and relu are correct."""

EXPECT = {
    "lose": {
        "kaiming_init_shape_and_seed": "torch.nn.init",
        "kaiming_init_distribution": "torch.nn.init",
    }
}

import torch
from torch import nn


def _he(w, generator):
    return nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)


def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    return _he(torch.empty(d_out, d_in), generator).T.contiguous()
