"""Scratch checks with globals(), vars() of a module-like object and a helper named like a
local variable of the graded function."""

EXPECT = {"full": True}

import torch


def S(A):
    return torch.linalg.svdvals(A)


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)  # a local S shadows the helper
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]


# %% cell at end
names = [n for n in globals() if not n.startswith("_")]
print(sorted(names)[:5], len(vars(torch.linalg)) > 0, S(torch.eye(2)))
