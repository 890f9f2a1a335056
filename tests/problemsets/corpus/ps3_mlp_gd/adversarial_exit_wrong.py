"""Unfinished answers, then the notebook exits the kernel (sys.exit and os._exit)."""

EXPECT = {"lose": {"*": None}, "total": 0.0}

import torch


def sigmoid(z):
    return z


# %% cell after ps3_sigmoid_values
import sys

sys.exit(0)

# %% cell at end
import os

os._exit(0)
