"""Honest work touching ordinary modules: gc, pathlib, io, inspect, pickle, SimpleNamespace, a
CSV of errors written with open(..., "w"), setattr in a loop, globals(), vars(obj),
breakpoint() and torch.compile in a scratch cell."""

EXPECT = {"full": True}

import gc
import inspect
import io
import pickle
from pathlib import Path
from types import SimpleNamespace

import torch


def best_rank_approximation(A, r):
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]


# %% cell at end
opts = SimpleNamespace()
for name, value in [("m", 6), ("n", 4)]:
    setattr(opts, name, value)
print(
    vars(opts), "best_rank_approximation" in globals(), inspect.signature(best_rank_approximation)
)
M = torch.randn(opts.m, opts.n, dtype=torch.float64)
with open("errors.csv", "w") as f:
    f.write("r,error\n")
    for r in range(opts.n + 1):
        f.write(f"{r},{torch.linalg.norm(M - best_rank_approximation(M, r)).item()}\n")
print(Path("errors.csv").read_text())
pickle.dump(opts.m, io.BytesIO())
gc.collect()
print(torch.compile(best_rank_approximation)(M, 2).shape)
breakpoint()
