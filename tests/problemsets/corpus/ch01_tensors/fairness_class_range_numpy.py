"""Honest: a Header class, range slicing for the length, numpy cumprod for the strides (numpy ints in the tuple)."""

EXPECT = {"full": True}

import numpy as np


class Header:
    def __init__(self, shape, strides, offset):
        self.shape, self.strides, self.offset = list(shape), list(strides), offset

    def astuple(self):
        return tuple(self.shape), tuple(self.strides), self.offset


def contiguous_strides(shape):
    if len(shape) == 0:
        return ()
    sizes = np.maximum(np.array(shape[1:] + (1,), dtype=np.int64), 1)
    return tuple(np.cumprod(sizes[::-1])[::-1])


def transpose_view(shape, strides, offset, dim0, dim1):
    h = Header(shape, strides, offset)
    h.shape[dim0], h.shape[dim1] = h.shape[dim1], h.shape[dim0]
    h.strides[dim0], h.strides[dim1] = h.strides[dim1], h.strides[dim0]
    return h.astuple()


def slice_view(shape, strides, offset, dim, start, stop, step):
    h = Header(shape, strides, offset)
    kept = range(shape[dim])[start:stop:step]
    if len(kept):
        h.offset += kept[0] * strides[dim]
    h.shape[dim] = len(kept)
    h.strides[dim] *= step
    return h.astuple()


def element_offset(index, strides, offset):
    return (
        int(offset + np.dot(np.array(index, dtype=np.int64), np.array(strides, dtype=np.int64)))
        if index
        else offset
    )
