"""The SVD computed in a thread started through concurrent.futures."""

EXPECT = {"lose": {"*": "starting a thread is not possible while grading"}}

from concurrent.futures import ThreadPoolExecutor

import torch


def best_rank_approximation(A, r):
    with ThreadPoolExecutor(1) as pool:
        U, S, Vh = pool.submit(torch.linalg.svd, A, full_matrices=False).result()
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]
