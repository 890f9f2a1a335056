"""Honest: strides by recursion, slices through Python's own range(), the offset by a generator expression, in separate cells with a scratch cell that prints torch's own answers."""

EXPECT = {"full": True}

# %% solution contiguous_strides_answer
def contiguous_strides(shape):
    if len(shape) == 0:
        return ()
    rest = contiguous_strides(shape[1:])
    inner = max(shape[1], 1) * rest[0] if rest else 1
    return (inner, *rest)


# %% solution transpose_view_answer
def transpose_view(shape, strides, offset, dim0, dim1):
    order = list(range(len(shape)))
    a, b = order[dim0], order[dim1]
    order[a], order[b] = b, a
    return tuple(shape[i] for i in order), tuple(strides[i] for i in order), offset


# %% solution slice_view_answer
def slice_view(shape, strides, offset, dim, start, stop, step):
    d = range(len(shape))[dim]
    picked = range(shape[d])[start:stop:step]
    new_shape = tuple(len(picked) if i == d else n for i, n in enumerate(shape))
    new_strides = tuple(picked.step * s if i == d else s for i, s in enumerate(strides))
    moved = picked.start * strides[d] if len(picked) else 0
    return new_shape, new_strides, offset + moved


# %% solution element_offset_answer
def element_offset(index, strides, offset):
    return offset + sum(i * s for i, s in zip(index, strides, strict=True))


# %% cell at end
import torch

print(torch.empty(2, 3, 4).stride(), torch.empty(2, 3, 4)[:, 1:].storage_offset())
