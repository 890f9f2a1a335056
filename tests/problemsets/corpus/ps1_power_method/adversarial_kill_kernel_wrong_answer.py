"""Wrong answer; kills its own kernel with SIGKILL and tries os._exit too."""

EXPECT = {"lose": {"*": "trace"}}

import os

import torch


def power_method(A, k):
    return A.diagonal().sum()


# %% cell after power_method_answer
os.kill(os.getpid(), 9)
os._exit(0)
