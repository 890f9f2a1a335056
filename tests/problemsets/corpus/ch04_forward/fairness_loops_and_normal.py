"""Correct: linear row by row with elementwise products summed, relu as x * (x > 0), and
kaiming_init with Tensor.normal_ on an empty tensor and the generator."""

EXPECT = {"full": True, "twin": True}

import math

import torch


def linear(x, w, b):
    rows = []
    for i in range(x.shape[0]):
        rows.append((x[i][:, None] * w).sum(dim=0) + b)  # (d_in, 1) * (d_in, d_out) -> (d_out,)
    return torch.stack(rows)


def relu(x):
    return x * (x > 0)


def kaiming_init(d_in, d_out, generator):
    w = torch.empty(d_in, d_out)
    return w.normal_(0.0, math.sqrt(2.0 / d_in), generator=generator)
