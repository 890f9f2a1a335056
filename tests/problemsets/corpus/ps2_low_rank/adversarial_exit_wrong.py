"""A wrong answer, then sys.exit() after the first test and os._exit(0) at the end."""

EXPECT = {"lose": {"*": None}}  # cases passed by chance earn partial credit

import torch


def best_rank_approximation(A, r):
    return A.T


# %% cell after ps2_shape_dtype
import sys

sys.exit("done")

# %% cell at end
import os

os._exit(0)
