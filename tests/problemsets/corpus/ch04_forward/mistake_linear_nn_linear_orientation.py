"""Mistake: linear uses nn.Linear's orientation, x @ w.T + b, on a w stored (d_in, d_out); the
rest is correct."""

EXPECT = {"lose": {"linear_float64": "(d_in, d_out)", "linear_float32": "(d_in, d_out)"}}

import math

import torch


def linear(x, w, b):
    return x @ w.T + b


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_in)
