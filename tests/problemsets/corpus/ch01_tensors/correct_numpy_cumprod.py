"""Honest: strides from NumPy's cumulative product (NumPy ints in the answer), a transpose by tuple swapping, the slice length by ceiling division."""

EXPECT = {"full": True}

import numpy as np


def contiguous_strides(shape):
    sizes = np.maximum(np.array(shape[1:], dtype=np.int64), 1)
    tail = np.cumprod(sizes[::-1])[::-1]
    return tuple(int(x) for x in tail) + ((1,) if len(shape) else ())


def transpose_view(shape, strides, offset, dim0, dim1):
    n = len(shape)
    i, j = dim0 % n, dim1 % n
    s, t = list(shape), list(strides)
    s[i], s[j], t[i], t[j] = s[j], s[i], t[j], t[i]
    return tuple(s), tuple(t), offset


def slice_view(shape, strides, offset, dim, start, stop, step):
    d = dim % len(shape)
    lo, hi, _ = slice(start, stop, step).indices(shape[d])
    length = max(0, -((lo - hi) // step))
    s, t = list(shape), list(strides)
    s[d], t[d] = length, t[d] * step
    return tuple(s), tuple(t), offset + (lo * strides[d] if length > 0 else 0)


def element_offset(index, strides, offset):
    return int(offset + np.dot(np.array(index, dtype=np.int64), np.array(strides, dtype=np.int64))) if len(index) else offset
