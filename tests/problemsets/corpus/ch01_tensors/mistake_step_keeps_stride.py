"""slice_view forgets to multiply the sliced dimension's stride by the step."""

EXPECT = {
    "lose": {"slice_view_basic": "kept its stride", "slice_view_rules": "kept its stride"},
    "score": {"slice_view_basic": 0.6666666666666666, "slice_view_rules": 0},
}


def contiguous_strides(shape):
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def transpose_view(shape, strides, offset, dim0, dim1):
    n = len(shape)
    dim0, dim1 = dim0 % n, dim1 % n
    shape, strides = list(shape), list(strides)
    shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
    strides[dim0], strides[dim1] = strides[dim1], strides[dim0]
    return tuple(shape), tuple(strides), offset


def slice_view(shape, strides, offset, dim, start, stop, step):
    n = len(shape)
    dim = dim % n
    size = shape[dim]
    start = 0 if start is None else (start + size if start < 0 else start)
    stop = size if stop is None else (stop + size if stop < 0 else stop)
    start = min(max(start, 0), size)
    stop = min(max(stop, start), size)
    length = (stop - start + step - 1) // step
    shape, strides = list(shape), list(strides)
    new_offset = offset + start * strides[dim]
    shape[dim] = length
    strides[dim] = strides[dim]
    return tuple(shape), tuple(strides), new_offset


def element_offset(index, strides, offset):
    return offset + sum(i * s for i, s in zip(index, strides))
