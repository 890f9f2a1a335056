"""Mistake: kaiming_init scales by the fan-out, sqrt(2/d_out), instead of the fan-in."""

EXPECT = {"lose": {"kaiming_init_distribution": "fan-out"}}

import math

import torch


def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_out)
