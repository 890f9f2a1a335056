"""Mistake: relu sets the negative entries of its input to 0 in place and returns it (values
right, input overwritten); the rest is correct."""

EXPECT = {"lose": {"relu_keeps_input": "changed its input"}}

import math

import torch


def linear(x, w, b):
    return x @ w + b


def relu(x):
    x[x < 0] = 0.0
    return x


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_in)
