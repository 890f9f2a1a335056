"""Mistake: linear forgets the bias (x @ w); the rest is correct."""

EXPECT = {"lose": {"linear_float64": "without the bias", "linear_float32": "without the bias"}}

import math

import torch


def linear(x, w, b):
    return x @ w


def relu(x):
    return x.clamp(min=0)


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_in)
