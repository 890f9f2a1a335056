"""The older torch.svd, which returns V (not Vh): V[:, :r].T is right there."""

EXPECT = {"full": True}

import torch


def best_rank_approximation(A, r):
    U, S, V = torch.svd(A)
    return U[:, :r] @ torch.diag(S[:r]) @ V[:, :r].T
