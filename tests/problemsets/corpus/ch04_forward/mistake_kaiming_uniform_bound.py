"""Mistake: kaiming_init draws uniformly on [-sqrt(2/d_in), sqrt(2/d_in)] (variance a third of
Kaiming's)."""

EXPECT = {"lose": {"kaiming_init_distribution": "uniform"}}

import math

import torch


def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    bound = math.sqrt(2 / d_in)
    return (2 * torch.rand(d_in, d_out, generator=generator) - 1) * bound
