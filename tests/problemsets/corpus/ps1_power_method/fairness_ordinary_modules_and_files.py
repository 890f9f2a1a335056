"""Honest work that touches ordinary modules: gc, pathlib, io, inspect, pickle, SimpleNamespace,
a CSV of estimates written with open(..., "w"), setattr in a loop, globals(), vars(obj),
breakpoint() and torch.compile in a scratch cell."""

EXPECT = {"full": True}

import gc
import inspect
import io
import pickle
from pathlib import Path
from types import SimpleNamespace

import torch


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        w = A @ v
        v = w / torch.linalg.vector_norm(w)
    return v @ A @ v


# %% cell at end
settings = SimpleNamespace()
for name, value in [("k", 50), ("d", 4)]:
    setattr(settings, name, value)
print(vars(settings), len(globals()) > 0, inspect.signature(power_method))
A = torch.diag(torch.tensor([1.0, 2.0, 4.0, 3.0], dtype=torch.float64))
with open("losses.csv", "w") as f:
    f.write("k,estimate\n")
    for k in (1, 5, 25):
        f.write(f"{k},{power_method(A, k).item()}\n")
print(Path("losses.csv").read_text())
buffer = io.BytesIO()
pickle.dump({"k": settings.k}, buffer)
gc.collect()
fast = torch.compile(power_method)
print(fast(A, 30))
breakpoint()
