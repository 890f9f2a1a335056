"""Broadcasting by hand: the shape rule, and the stride-0 view that makes it free.

Rule. Align the shapes at their *last* dimension (pad the shorter ones on the left with
missing dimensions). In each aligned position the sizes must be equal, or 1, or missing;
the result takes the size that is not 1 (or 1 if all are 1). A size-1 or missing dimension is
then *read repeatedly* rather than copied: its stride in the broadcast view is 0.

Taught in: chapter 2, Broadcasting.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to, computed from the rule.

    Args:
        *shapes: any number of shapes (tuples of non-negative ints); ``()`` is a scalar.

    Returns:
        A tuple as long as the longest shape. Position ``-k`` (counting from the right)
        holds the common size of the shapes that have a size other than 1 there, or 1.

    Raises:
        ValueError: if two shapes have different sizes, neither 1, at the same position.

    Taught in: chapter 2, Broadcasting.
    """
    ndim = max((len(s) for s in shapes), default=0)
    result: list[int] = []
    for k in range(1, ndim + 1):  # k-th dimension from the right
        size, owner = 1, None
        for which, shape in enumerate(shapes):
            if k > len(shape) or shape[-k] == 1:
                continue  # missing or 1: stretches to whatever the others have
            if size != 1 and shape[-k] != size:
                raise ValueError(
                    f"shapes {tuple(shapes[owner])} and {tuple(shape)} cannot broadcast: "
                    f"at dimension {-k} (counting from the right) their sizes are {size} and "
                    f"{shape[-k]}; each pair must be equal or include a 1. Insert a size-1 "
                    "axis (x[:, None] or unsqueeze) where you meant one to be stretched."
                )
            size, owner = shape[-k], which
        result.append(size)
    return tuple(reversed(result))


def expand_stride0(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """A view of ``t`` broadcast to ``shape``, built by hand with stride 0.

    The view's dimension ``j`` reads dimension ``j - (len(shape) - t.ndim)`` of ``t``. Where
    ``t`` has that size, the stride is ``t``'s own; where ``t`` has size 1 or no such
    dimension, the stride is 0, so every index along it lands on the same storage element.
    No memory is allocated: the result shares ``t``'s storage (like ``torch.expand``).

    Args:
        t: a tensor of shape ``(s_0, ..., s_{k-1})``, contiguous or not.
        shape: the target shape; ``broadcast_shape(t.shape, shape)`` must equal it.

    Returns:
        A tensor of shape ``shape`` sharing storage with ``t``. Do not write into it: several
        indices alias one element.

    Raises:
        ValueError: if ``t`` cannot be broadcast to ``shape``.

    Taught in: chapter 2, Broadcasting.
    """
    shape = tuple(shape)
    try:
        ok = broadcast_shape(tuple(t.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"cannot broadcast a tensor of shape {tuple(t.shape)} to {shape}: the target must "
            "have at least as many dimensions, and each of the tensor's sizes (aligned from "
            "the right) must equal the target's size or be 1."
        )
    lead = len(shape) - t.ndim  # number of new dimensions added on the left
    strides = [0] * lead  # new dimensions: stride 0
    for j, (size, stride) in enumerate(zip(t.shape, t.stride(), strict=True)):
        strides.append(stride if size == shape[lead + j] else 0)  # stretched 1 -> stride 0
    return torch.as_strided(t, shape, strides, t.storage_offset())  # (*shape), no copy


def broadcast_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Views of ``a`` and ``b`` with their common broadcast shape (stride 0 where stretched).

    After this, any elementwise operation is a plain same-shape loop:
    ``x, y = broadcast_pair(a, b); x + y`` equals ``a + b``.

    Taught in: chapter 2, Broadcasting.
    """
    shape = broadcast_shape(tuple(a.shape), tuple(b.shape))
    return expand_stride0(a, shape), expand_stride0(b, shape)


def outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Outer product ``out[i, j] = a[i] * b[j]`` by broadcasting a column against a row.

    Args:
        a: shape ``(m,)``.
        b: shape ``(n,)``.

    Returns:
        Shape ``(m, n)``; equal to ``torch.outer(a, b)``.

    Raises:
        ValueError: if ``a`` or ``b`` is not one-dimensional.

    Taught in: chapter 2, Broadcasting.
    """
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"outer needs two vectors, got shapes {tuple(a.shape)} and {tuple(b.shape)}; "
            "flatten them first (x.reshape(-1))."
        )
    return a[:, None] * b[None, :]  # (m, 1) * (1, n) -> (m, n)
