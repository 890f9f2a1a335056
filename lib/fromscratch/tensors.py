"""What a tensor is: a flat storage plus (shape, strides, storage offset) metadata.

A tensor of shape ``(s_0, ..., s_{k-1})`` reads element ``(i_0, ..., i_{k-1})`` from position

    offset = storage_offset + sum_j i_j * stride_j

of a one-dimensional storage. Everything in this module is that one formula, applied: which
strides a fresh (row-major) tensor gets, when strides count as "contiguous", when a ``view``
to a new shape can be expressed with strides at all, and when two tensors touch the same bytes.

Taught in: chapter 1, Tensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product

import torch


def describe(t: torch.Tensor) -> dict[str, object]:
    """The metadata that decides how a tensor is stored and whether autograd tracks it.

    Args:
        t: any tensor.

    Returns:
        A dict with ``shape``, ``dtype``, ``device``, ``strides`` (in elements, not bytes),
        ``storage_offset``, ``contiguous``, ``requires_grad`` and ``is_leaf``.

    Taught in: chapter 1, Tensors.
    """
    return {
        "shape": tuple(t.shape),
        "dtype": t.dtype,
        "device": t.device,
        "strides": t.stride(),
        "storage_offset": t.storage_offset(),
        "contiguous": t.is_contiguous(),
        "requires_grad": t.requires_grad,
        "is_leaf": t.is_leaf,
    }


def row_major_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """The strides of a freshly allocated (C-order, row-major) tensor of ``shape``.

    The last index moves fastest: ``stride_{k-1} = 1`` and ``stride_j = s_{j+1} * stride_{j+1}``,
    so ``stride_j`` is the product of all sizes to the right of dimension ``j``.
    Sizes of 0 are treated as 1, which is what torch does.

    Taught in: chapter 1, Tensors.
    """
    strides = [1] * len(shape)
    for j in range(len(shape) - 2, -1, -1):
        strides[j] = strides[j + 1] * max(shape[j + 1], 1)
    return tuple(strides)


def element_offset(index: Sequence[int], strides: Sequence[int], storage_offset: int = 0) -> int:
    """Position in the flat storage of the element at ``index``: the stride formula.

    ``offset = storage_offset + sum_j index_j * stride_j``.

    Args:
        index: one non-negative integer per dimension.
        strides: one stride per dimension, in elements (as returned by ``Tensor.stride()``).
        storage_offset: where element ``(0, ..., 0)`` lives (``Tensor.storage_offset()``).

    Raises:
        ValueError: if ``index`` and ``strides`` have different lengths.

    Taught in: chapter 1, Tensors.
    """
    if len(index) != len(strides):
        raise ValueError(
            f"index has {len(index)} entries but there are {len(strides)} strides; "
            "pass one index per dimension."
        )
    return storage_offset + sum(i * s for i, s in zip(index, strides, strict=True))


def is_row_major(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether ``(shape, strides)`` walks memory in row-major order, as ``is_contiguous`` asks.

    True when every dimension of size greater than 1 has exactly the row-major stride
    computed from the sizes to its right. The strides of size-1 dimensions never move the
    address (their only index is 0), so they may be anything; an empty tensor is always
    contiguous.

    Taught in: chapter 1, Tensors.
    """
    if math.prod(shape) == 0:
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def view_strides(
    shape: Sequence[int], strides: Sequence[int], new_shape: Sequence[int]
) -> tuple[int, ...] | None:
    """Strides that let ``new_shape`` read the same elements in the same order, or None.

    ``view`` never copies, so it needs strides for ``new_shape`` such that walking the new
    shape in row-major order visits the same storage positions as walking the old one. Split
    the old dimensions into *chunks*: maximal runs in which each dimension steps exactly over
    the one to its right (``stride_{j-1} = s_j * stride_j``), so a chunk behaves like one flat
    run with a single base stride. A view exists exactly when ``new_shape`` can be cut into
    consecutive groups whose sizes multiply to the chunk sizes; no new dimension may straddle
    two chunks. This is the rule behind torch's ``view`` (ATen's ``computeStride``).

    Args:
        shape, strides: the existing tensor's sizes and strides.
        new_shape: the requested sizes (no -1), with the same number of elements.

    Returns:
        The strides ``tensor.view(new_shape)`` would get, or None if ``view`` must fail.

    Raises:
        ValueError: if the element counts differ.

    Taught in: chapter 1, Tensors.
    """
    numel = math.prod(shape)
    if numel != math.prod(new_shape):
        raise ValueError(
            f"cannot view {tuple(shape)} ({numel} elements) as {tuple(new_shape)} "
            f"({math.prod(new_shape)} elements); the element counts must match."
        )
    if len(shape) == 0:
        return (1,) * len(new_shape)
    if numel == 0:
        return tuple(strides) if tuple(shape) == tuple(new_shape) else row_major_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base = strides[-1]  # stride of the innermost dimension of the current chunk
    chunk_numel, view_numel = 1, 1
    for d in range(len(shape) - 1, -1, -1):
        chunk_numel *= shape[d]
        chunk_ends = d == 0 or (shape[d - 1] != 1 and strides[d - 1] != chunk_numel * base)
        if not chunk_ends:
            continue
        # Give the new dimensions (right to left) to this chunk until its size is used up.
        while view_d >= 0 and (view_numel < chunk_numel or new_shape[view_d] == 1):
            new_strides[view_d] = view_numel * base
            view_numel *= new_shape[view_d]
            view_d -= 1
        if view_numel != chunk_numel:
            return None  # a new dimension would straddle two chunks
        if d > 0:
            base, chunk_numel, view_numel = strides[d - 1], 1, 1
    return tuple(new_strides) if view_d == -1 else None


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether some byte of some element of ``a`` is also a byte of an element of ``b``.

    Enumerates every element's bytes with the stride formula, so it is exact but meant for
    small tensors (it costs one Python step per element). Two slices of the same storage that
    do not overlap, such as ``x[:2]`` and ``x[2:]``, do *not* share memory; a tensor and its
    transpose do. ``numpy.shares_memory`` answers the same question for arrays.

    Taught in: chapter 1, Tensors.
    """
    if a.device != b.device:
        return False

    def byte_addresses(t: torch.Tensor) -> set[int]:
        size = t.element_size()
        starts = {
            t.data_ptr() + element_offset(idx, t.stride()) * size
            for idx in product(*(range(n) for n in t.shape))
        }
        return {start + k for start in starts for k in range(size)}

    if a.numel() == 0 or b.numel() == 0:
        return False
    return not byte_addresses(a).isdisjoint(byte_addresses(b))
