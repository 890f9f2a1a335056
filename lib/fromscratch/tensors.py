"""What a tensor is: a flat storage plus (shape, strides, storage offset) metadata.

A tensor of shape ``(s_0, ..., s_{k-1})`` reads element ``(i_0, ..., i_{k-1})`` from position

    offset = storage_offset + sum_j i_j * stride_j

of a one-dimensional storage. Everything in this module is that one formula, applied: which
strides a fresh (row-major) tensor gets, when strides count as "contiguous", when a ``view``
to a new shape can be expressed with strides at all, when two tensors touch the same bytes,
and how ``gather`` reads its elements. ``reduced_shape`` states the shape rule of reductions.

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


def _normalise_dim(dim: int, ndim: int, name: str) -> int:
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor, or a ValueError."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(
            f"{name}: dim={dim} is out of range for a tensor with {ndim} dimension(s); "
            f"use a value from {-max(ndim, 1)} to {max(ndim, 1) - 1}."
        )
    return dim % max(ndim, 1)


def gather(t: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """``torch.gather`` by the stride formula: pick one element along ``dim`` per position.

    The result has the shape of ``index``, and for every position ``i = (i_0, ..., i_{k-1})``

        out[i] = t[i_0, ..., i_{dim-1}, index[i], i_{dim+1}, ..., i_{k-1}],

    i.e. ``index`` replaces the coordinate along ``dim`` and every other coordinate is kept.
    Each element is read straight from the storage at
    ``storage_offset + sum_j src_j * stride_j`` (:func:`element_offset`), so non-contiguous
    inputs work unchanged. The result is a new tensor (a copy), like ``torch.gather``'s.

    Args:
        t: the source tensor, any strides.
        dim: the axis that ``index`` selects along (negative values count from the end).
        index: an int64 tensor with as many dimensions as ``t``; along every axis other than
            ``dim`` its size must not exceed ``t``'s, and its values must lie in
            ``[0, t.shape[dim])``.

    Returns:
        A tensor of ``index.shape`` and ``t.dtype``.

    Taught in: chapter 1, Tensors (section "Indexing and reductions").
    """
    dim = _normalise_dim(dim, t.dim(), "gather")
    if index.dtype != torch.int64:
        raise ValueError(f"gather: index must be an int64 tensor, got {index.dtype}.")
    if index.dim() != t.dim():
        raise ValueError(
            f"gather: index has {index.dim()} dimension(s) but t has {t.dim()}; they must match "
            f"(unsqueeze the index where t has an axis it lacks)."
        )
    for axis, (n_index, n_t) in enumerate(zip(index.shape, t.shape, strict=True)):
        if axis != dim and n_index > n_t:
            raise ValueError(
                f"gather: index has size {n_index} along axis {axis}, larger than t's {n_t}; "
                f"only the axis dim={dim} may differ freely."
            )
    if index.numel() and (index.min() < 0 or index.max() >= t.shape[dim]):
        raise ValueError(
            f"gather: index values must lie in [0, {t.shape[dim]}) along dim={dim}, "
            f"got values from {int(index.min())} to {int(index.max())}."
        )
    n_storage = t.untyped_storage().nbytes() // t.element_size()
    storage = t.as_strided((n_storage,), (1,), 0)  # the whole storage, read as a flat vector
    out = torch.empty(index.shape, dtype=t.dtype)
    for position in product(*(range(n) for n in index.shape)):
        source = list(position)
        source[dim] = int(index[position])  # the index replaces the coordinate along dim
        out[position] = storage[element_offset(source, t.stride(), t.storage_offset())]
    return out


def reduced_shape(
    shape: Sequence[int], dim: int | Sequence[int] | None = None, keepdim: bool = False
) -> tuple[int, ...]:
    """The shape of a reduction such as ``t.sum(dim, keepdim)`` of a tensor of ``shape``.

    Reducing over ``dim`` removes those axes; with ``keepdim=True`` they stay, with size 1,
    so the result broadcasts back against the input (chapter 2). ``dim=None`` reduces over
    every axis: the result is ``()``, or all ones with ``keepdim=True``.

    Args:
        shape: the input's shape.
        dim: one axis, several axes, or ``None`` for all of them (negative values count from
            the end).
        keepdim: keep the reduced axes as size 1.

    Returns:
        The result's shape as a tuple.

    Taught in: chapter 1, Tensors (section "Indexing and reductions").
    """
    ndim = len(shape)
    if dim is None:
        axes = set(range(ndim))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        axes = {_normalise_dim(d, ndim, "reduced_shape") for d in dims}
        if len(axes) != len(dims):
            raise ValueError(f"reduced_shape: dim {dim} names the same axis twice.")
    if keepdim:
        return tuple(1 if axis in axes else n for axis, n in enumerate(shape))
    return tuple(n for axis, n in enumerate(shape) if axis not in axes)
