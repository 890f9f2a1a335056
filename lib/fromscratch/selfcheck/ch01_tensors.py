"""Public tests of the chapter 1 set (a tensor's header by hand), run by ``check(...)``.

One test per graded part, on public inputs of the kinds the hidden tests use, with the grading
rules of ``fromscratch.rules.CH01``: every shape, stride and offset exactly equal to the header
torch writes (read here, outside the student's call, with ``.stride()`` and
``.storage_offset()``); shapes and strides as tuples.

Taught in: chapter 1, Tensors (its Exercises section).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch

from fromscratch.check import Fail, Runner


def _header(t: torch.Tensor) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    return tuple(t.shape), tuple(t.stride()), t.storage_offset()


def _view(shape, strides, offset) -> torch.Tensor:
    """A view with this header over a storage holding 0, 1, 2, ... (big enough for it)."""
    size = offset + 1 + sum((s - 1) * d for s, d in zip(shape, strides, strict=True))
    return torch.arange(size).as_strided(shape, strides, offset)


def _is_int(value) -> bool:
    """An int as grading reads it: anything operator.index accepts (NumPy ints too), no bool."""
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _is_int_tuple(value) -> bool:
    return isinstance(value, tuple) and all(_is_int(v) for v in value)


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    def contiguous() -> None:
        for shape in ((2, 3, 4), (3, 1, 2, 1), (4, 0, 2), (0,), ()):
            got = run.call("contiguous_strides", shape)
            want = tuple(torch.empty(shape).stride())
            if not _is_int_tuple(got):
                raise Fail(
                    f"contiguous_strides({shape}) returned a {type(got).__name__}; return a"
                    " tuple of ints."
                )
            if got != want:
                hint = "stride j is the product of the sizes to the right of j (last one 1)"
                if 0 in shape:
                    hint = "a size 0 counts as 1 in the products (torch's convention)"
                elif not shape:
                    hint = "a 0-dim shape has no strides: ()"
                raise Fail(f"contiguous_strides({shape}) returned {got}; expected {want}: {hint}.")

    def header_test(fn: str, t: torch.Tensor, args: tuple, want: tuple, what: str) -> None:
        got = run.call(fn, *_header(t), *args)
        if not (isinstance(got, tuple) and len(got) == 3 and _is_int(got[2])):
            raise Fail(f"{fn} for {what} returned {got!r}; return (shape, strides, offset).")
        if not (_is_int_tuple(got[0]) and _is_int_tuple(got[1])):
            raise Fail(f"{fn} for {what}: return the shape and the strides as tuples of ints.")
        if tuple(got) != want:
            raise Fail(f"{fn} for {what} returned {got}; torch's view has {want}.")

    def transpose() -> None:
        t = torch.arange(120).reshape(2, 3, 4, 5)[:, 1:]  # (2, 2, 4, 5), offset 20
        for d0, d1 in ((0, 2), (-1, -3), (3, 1)):
            header_test(
                "transpose_view",
                t,
                (d0, d1),
                _header(t.transpose(d0, d1)),
                f"t.transpose({d0}, {d1}) with t = arange(120).reshape(2, 3, 4, 5)[:, 1:]",
            )

    def slices(specs: tuple) -> Callable[[], None]:
        def test() -> None:
            t = _view((5, 6, 7), (1, 8, 50), 7)  # non-contiguous, offset 7
            for dim, start, stop, step in specs:
                index = [slice(None)] * 3
                index[dim] = slice(start, stop, step)
                header_test(
                    "slice_view",
                    t,
                    (dim, start, stop, step),
                    _header(t[tuple(index)]),
                    f"the slice {start}:{stop}:{step} along dim {dim} of a view with shape"
                    " (5, 6, 7), strides (1, 8, 50), offset 7 (size ⌈(stop − start)/step⌉,"
                    " stride · step, offset + start · stride)",
                )

        return test

    def element() -> None:
        t = _view((5, 6, 7), (1, 8, 50), 7)
        cases = [((1, 2, 3), (12, 4, 1), 0, 23)]
        cases += [(i, t.stride(), t.storage_offset(), int(t[i])) for i in ((2, 1, 0), (4, 5, 6))]
        cases.append(((), (), 5, 5))
        for index, strides, offset, want in cases:
            got = run.call("element_offset", index, strides, offset)
            if not _is_int(got) or got != want:
                raise Fail(
                    f"element_offset({index}, {strides}, {offset}) returned {got!r}; expected"
                    f" {want} = offset + Σ index_j · stride_j."
                )

    return {
        "contiguous_strides": contiguous,
        "transpose_view": transpose,
        "slice_view_basic": slices(((0, 1, 5, 2), (1, 2, 6, 3), (2, 1, 6, 1))),
        "slice_view_rules": slices(((1, None, None, 4), (-1, -5, -1, 2), (0, 2, 50, 1))),
        "element_offset": element,
    }
