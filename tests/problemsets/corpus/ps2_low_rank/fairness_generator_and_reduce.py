"""A generator of rank-one terms, summed with functools.reduce."""

EXPECT = {"full": True}

import functools
import operator

import torch


def rank_one_terms(A):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    for i in range(S.numel()):
        yield S[i] * torch.outer(U[:, i], Vh[i])


def best_rank_approximation(A, r):
    terms = [t for _, t in zip(range(r), rank_one_terms(A))]
    return functools.reduce(operator.add, terms, torch.zeros_like(A))
