"""Correct: a callable layer class, ordinary modules (gc, pathlib, a file written), relu with
torch.maximum, kaiming_init drawn in float64 and cast; a scratch cell compares with F.linear,
torch.relu and nn.init (allowed outside the graded functions)."""

EXPECT = {"full": True}

import gc
import math
import pathlib
import tempfile

import torch


class Affine:
    """x -> x @ w + b for one (w, b)."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, x):
        return torch.matmul(x, self.w) + self.b


def linear(x, w, b):
    gc.collect()
    return Affine(w, b)(x)


def relu(x):
    return torch.maximum(x, torch.zeros_like(x))


def kaiming_init(d_in, d_out, generator):
    std = math.sqrt(2 / d_in)
    w = torch.randn(d_in, d_out, generator=generator, dtype=torch.float64) * std
    note = pathlib.Path(tempfile.gettempdir()) / "ch04_notes.txt"
    note.write_text(f"drew {d_in}x{d_out}\n")
    return w.float()


# %% cell at end
import torch.nn.functional as F

x, W, b = torch.randn(3, 4), torch.randn(2, 4), torch.randn(2)
print((linear(x, W.T, b) - F.linear(x, W, b)).abs().max(), torch.equal(relu(x), torch.relu(x)))
ref = torch.nn.init.kaiming_normal_(torch.empty(200, 100))
print(float(ref.var()) * 100 / 2, float(kaiming_init(100, 200, torch.Generator()).var()) * 100 / 2)
