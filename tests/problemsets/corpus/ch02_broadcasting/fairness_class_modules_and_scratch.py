"""Correct: a callable class, ordinary modules (gc, pathlib, a file written), and a scratch cell
that compares with torch.broadcast_shapes and expand (allowed outside the graded functions)."""

EXPECT = {"full": True}

import gc
import pathlib
import tempfile

import torch


class Rule:
    """The broadcasting rule for one pair of sizes."""

    def __call__(self, p, q, dim):
        if p != q and 1 not in (p, q):
            raise ValueError(f"cannot broadcast: {p} vs {q} at dimension {dim}")
        return q if p == 1 else p


RULE = Rule()


def broadcast_shape(shape_a, shape_b):
    n = max(len(shape_a), len(shape_b))
    a = [1] * (n - len(shape_a)) + list(shape_a)
    b = [1] * (n - len(shape_b)) + list(shape_b)
    return tuple(RULE(p, q, j - n) for j, (p, q) in enumerate(zip(a, b)))


def broadcast_by_strides(t, shape):
    gc.collect()
    shape = tuple(shape)
    pad = len(shape) - t.ndim
    own = [0] * pad + list(t.stride())
    sizes = [1] * pad + list(t.shape)
    strides = [s if n == m else 0 for s, n, m in zip(own, sizes, shape)]
    return t.as_strided(shape, strides, t.storage_offset())


def pairwise_sq_distances(x, y):
    d2 = (x.unsqueeze(1) - y.unsqueeze(0)).pow(2).sum(-1)  # (n, 1, d) - (1, m, d) -> (n, m)
    log = pathlib.Path(tempfile.gettempdir()) / "ch02_notes.txt"
    log.write_text(f"last call: {tuple(d2.shape)}\n")
    return d2


# %% cell at end
print(broadcast_shape((4, 1), (3,)), tuple(torch.broadcast_shapes((4, 1), (3,))))
t = torch.arange(3.0)[:, None]
print(torch.equal(broadcast_by_strides(t, (2, 3, 5)), t.expand(2, 3, 5)))
