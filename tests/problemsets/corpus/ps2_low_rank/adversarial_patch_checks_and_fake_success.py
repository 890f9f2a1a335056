"""A wrong answer, plus a cell that rigs every check the tests could use and prints fake success."""

EXPECT = {"lose": {"*": None}, "total": 0.0, "twin": True}

import torch


def best_rank_approximation(A, r):
    return torch.zeros(1)


# %% cell after ps2_solution
import math

import torch.testing

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.linalg.matrix_rank = lambda B, *args, **kwargs: torch.tensor(2)
torch.linalg.norm = lambda *args, **kwargs: torch.tensor(0.0)
torch.linalg.svdvals = lambda *args, **kwargs: torch.zeros(1)
math.isclose = lambda *args, **kwargs: True
abs = lambda value: 0.0
try:
    get_ipython().showtraceback = lambda *args, **kwargs: None  # noqa: F821
except NameError:
    pass
print("All tests passed! Score: 10/10")
