"""Mistake: kaiming_init multiplies by 2/d_in (the variance) instead of sqrt(2/d_in)."""

EXPECT = {"lose": {"kaiming_init_distribution": "the std is √(2/d_in)"}}

import torch


def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * (2 / d_in)
