"""The course's reference matmul fetched with pkgutil.resolve_name (no import statement)."""

EXPECT = {"lose": {"*": "course's own reference"}}

import pkgutil

import torch

mm = pkgutil.resolve_name("fromscratch." + "matmul:matmul_einsum")


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return mm(U[:, :r] * S[:r], Vh[:r, :])
