"""Mistake: relu returns |x|; the rest is correct."""

EXPECT = {"lose": {"relu_values": "|x|", "relu_keeps_input": "|x|"}}

import math

import torch


def linear(x, w, b):
    return x @ w + b


def relu(x):
    return x.abs()


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_in)
