"""Correct: linear with torch.einsum, relu with torch.where, and kaiming_init from uniform draws of
the generator by the Box-Muller transform (exactly normal, a different route from randn)."""

EXPECT = {"full": True}

import math

import torch


def linear(x, w, b):
    return torch.einsum("ik,kj->ij", x, w) + b


def relu(x):
    return torch.where(x > 0, x, 0.0)


def kaiming_init(d_in, d_out, generator):
    u1 = 1.0 - torch.rand(d_in, d_out, generator=generator, dtype=torch.float64)  # (0, 1]
    u2 = torch.rand(d_in, d_out, generator=generator, dtype=torch.float64)
    z = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)  # N(0, 1)
    return (z * math.sqrt(2.0 / d_in)).to(torch.float32)
