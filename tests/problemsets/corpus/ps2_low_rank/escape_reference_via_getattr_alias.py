"""The course's reference matmul through an alias of getattr on an imported module."""

EXPECT = {"lose": {"*": "course's own reference"}}

import importlib

import torch

fetch = getattr
mm = fetch(importlib.import_module("fromscratch.matmul"), "matmul_" + "broadcast")


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return mm(U[:, :r] * S[:r], Vh[:r, :])
