"""Honest: helpers, math.prod, slice.indices, a scratch cell with gc and pathlib."""

EXPECT = {"full": True}

import gc
import math
import pathlib


def _norm(dim, k):
    return dim + k if dim < 0 else dim


def contiguous_strides(shape):
    return tuple(math.prod(max(s, 1) for s in shape[j + 1 :]) for j in range(len(shape)))


def transpose_view(shape, strides, offset, dim0, dim1):
    a, b = _norm(dim0, len(shape)), _norm(dim1, len(shape))
    order = list(range(len(shape)))
    order[a], order[b] = b, a
    return tuple(shape[j] for j in order), tuple(strides[j] for j in order), offset


def slice_view(shape, strides, offset, dim, start, stop, step):
    d = _norm(dim, len(shape))
    lo, hi, _ = slice(start, stop, step).indices(shape[d])
    n = len(range(lo, hi, step))
    new_shape = tuple(n if j == d else s for j, s in enumerate(shape))
    new_strides = tuple(s * step if j == d else s for j, s in enumerate(strides))
    return new_shape, new_strides, offset + lo * strides[d]


def element_offset(index, strides, offset):
    total = offset
    for j in range(len(index)):
        total = total + index[j] * strides[j]
    return total


# %% cell at end
gc.collect()
print(pathlib.Path(".").resolve().name, contiguous_strides((2, 3)))
