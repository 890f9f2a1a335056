"""Shortcuts: relu is F.relu imported under another name, linear reaches F.linear through getattr
with a computed name (values right); kaiming_init is correct."""

EXPECT = {
    "lose": {
        "linear_float64": "layer functions",
        "linear_float32": "layer functions",
        "relu_values": "layer functions",
        "relu_keeps_input": "layer functions",
    },
    # the computed getattr name flags the parts that the traps could not settle (the others
    # already score 0 on the traps' proof)
    "review": ["kaiming_init_shape_and_seed", "kaiming_init_distribution"],
}

import math

import torch
import torch.nn.functional as nnf
from torch.nn.functional import relu as rectify


def linear(x, w, b):
    return getattr(nnf, "lin" + "ear")(x, w.T, b)


def relu(x):
    return rectify(x)


def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_in)
