"""A class with __call__; best_rank_approximation is an instance of it."""

EXPECT = {"full": True}

import torch


class Truncation:
    def __call__(self, A, r):
        U, S, Vh = torch.linalg.svd(A, full_matrices=False)
        keep = torch.arange(S.numel()) < r
        return U @ torch.diag(torch.where(keep, S, torch.zeros_like(S))) @ Vh


best_rank_approximation = Truncation()
