"""A dataclass holding the factors, with a method that truncates them."""

EXPECT = {"full": True}

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Factors:
    U: torch.Tensor
    S: torch.Tensor
    Vh: torch.Tensor

    @classmethod
    def of(cls, A):
        return cls(*torch.linalg.svd(A, full_matrices=False))

    def truncated(self, r):
        return (self.U[:, :r] * self.S[:r]) @ self.Vh[:r]


def best_rank_approximation(A, r):
    return Factors.of(A).truncated(r)
