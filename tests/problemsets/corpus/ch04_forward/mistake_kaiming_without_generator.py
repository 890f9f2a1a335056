"""Mistake: kaiming_init draws from torch's global generator (torch.randn without generator=);
the distribution is right, so only the generator part is lost."""

EXPECT = {"lose": {"kaiming_init_shape_and_seed": "generator passed in"}}

import math

import torch


def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out) * math.sqrt(2 / d_in)
