"""A correct answer, then a cell that kills its own kernel: the work still earns its points."""

EXPECT = {"full": True}

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return (U[:, :r] * S[:r]) @ Vh[:r, :]


# %% cell after ps2_rank
import os as operating_system

operating_system.kill(operating_system.getpid(), 9)
