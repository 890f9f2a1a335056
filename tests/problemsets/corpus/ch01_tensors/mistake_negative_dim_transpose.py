"""transpose_view compares loop positions with dim0/dim1 without normalising negative dims."""

EXPECT = {
    "lose": {"transpose_view": "negative dim"},
    "score": {"transpose_view": 1.3333333333333333},
}


def contiguous_strides(shape):
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def transpose_view(shape, strides, offset, dim0, dim1):
    new_shape, new_strides = [], []
    for j in range(len(shape)):
        k = dim1 if j == dim0 else dim0 if j == dim1 else j
        new_shape.append(shape[k])
        new_strides.append(strides[k])
    return tuple(new_shape), tuple(new_strides), offset


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
    strides[dim] = strides[dim] * step
    return tuple(shape), tuple(strides), new_offset


def element_offset(index, strides, offset):
    return offset + sum(i * s for i, s in zip(index, strides))
