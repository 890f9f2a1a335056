"""Correct: linear by broadcasting and a sum (no @), relu on a clone with a masked assignment,
kaiming_init drawn as (d_out, d_in) and transposed (the right fan-in), helpers everywhere."""

EXPECT = {"full": True}

import math

import torch


def _scale(fan_in):
    return math.sqrt(2.0 / fan_in)


def linear(x, w, b):
    products = x[:, :, None] * w[None, :, :]  # (n, d_in, 1) * (1, d_in, d_out) -> (n, d_in, d_out)
    return products.sum(dim=1) + b[None, :]


def relu(x):
    out = x.clone()
    out[out < 0] = 0.0
    return out


def kaiming_init(d_in, d_out, generator):
    w = torch.randn(d_out, d_in, generator=generator)  # nn.Linear's layout first
    return (w * _scale(d_in)).T.contiguous()  # (d_in, d_out)
