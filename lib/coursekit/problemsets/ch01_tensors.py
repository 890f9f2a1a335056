"""Grader for the chapter 1 set: a tensor's header (shape, strides, storage offset) by hand.

Student API (chapter 1, ``fromscratch.tensors`` implements the same pieces):

- ``contiguous_strides(shape)``: the row-major strides, in elements, of a fresh tensor of
  ``shape``, as a tuple: ``stride_j`` is the product of the sizes right of ``j``, a size 0
  counted as 1 (torch's convention), ``()`` for a 0-dim shape.
- ``transpose_view(shape, strides, offset, dim0, dim1)``: ``(shape, strides, offset)`` of
  ``t.transpose(dim0, dim1)`` for the view ``t`` described by the first three arguments;
  negative dims count from the end.
- ``slice_view(shape, strides, offset, dim, start, stop, step)``: the header of
  ``t[..., start:stop:step, ...]`` (the slice along ``dim``), with Python's slice rules (None,
  negative start/stop, clamping to the size), ``step >= 1``.
- ``element_offset(index, strides, offset)``: the storage position of element ``index``.

Forbidden (``fromscratch.rules.CH01``) in every function: the course's reference code and
reading a tensor's strides or storage offset (``Tensor.stride``, ``Tensor.storage_offset``):
the functions work on integers, so building a tensor to read torch's answer is the shortcut.

Exactness. Everything is an integer, so every case is compared exactly with torch's own view,
built here in the trusted process: ``torch.empty(shape).stride()``, and ``as_strided`` on a
storage large enough for the view, then ``transpose``/slicing, ``.stride()``,
``.storage_offset()``; the element's position by reading it from a storage holding
``0, 1, 2, ...``. The rules entry therefore has no tolerances.

Hidden inputs per submission: every case draws its sizes, strides, offsets, dims and slices from
``derive_seed(seed, "<grade_id>/<i>")``. Messages name the case's kind (never its numbers) and
the likely mistake; ``hidden_values`` lists what must never appear in feedback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    derive_seed,
    part_checks,
)
from fromscratch.rules import CH01 as RULES

SHORTCUT_HINTS = {
    "strides": "compute the header from the integers you are given (products of sizes, a swap,"
    " start·stride), without building a tensor to read its .stride() or .storage_offset()",
    "reference": "write it yourself, as the chapter explains",
}

CALL_TIMEOUT = 5.0  # seconds per call; every call here takes microseconds


# ----------------------------------------------------------------------------- driver (sandbox)


def drive(target, *args):
    """Run in the sandbox: call the student's function on plain ints and report the result as
    plain data (its type name, and its integers where it has them)."""
    import operator

    def as_int(v):
        if isinstance(v, bool):
            return None
        try:
            return operator.index(v)
        except TypeError:
            return None

    def describe(v):
        if isinstance(v, (tuple, list)):
            items = [describe(x) for x in v]
            return {"kind": "tuple" if isinstance(v, tuple) else type(v).__name__, "items": items}
        number = as_int(v)
        if number is not None:
            return {"kind": "int", "int": number}
        return {"kind": type(v).__name__}

    return describe(target(*args))


# ----------------------------------------------------------------------------- trusted views


def _storage_size(shape, strides, offset) -> int:
    if 0 in shape:
        return offset + 1
    return offset + 1 + sum((s - 1) * d for s, d in zip(shape, strides, strict=True))


def make_view(shape, strides, offset) -> torch.Tensor:
    """The view (shape, strides, offset) over a storage holding 0, 1, 2, ... (int64)."""
    storage = torch.arange(_storage_size(shape, strides, offset))
    return storage.as_strided(tuple(shape), tuple(strides), offset)


def header(t: torch.Tensor) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    return tuple(t.shape), tuple(t.stride()), t.storage_offset()


def torch_contiguous(shape) -> tuple[int, ...]:
    return tuple(torch.empty(tuple(shape)).stride())


def torch_transpose(shape, strides, offset, dim0, dim1):
    return header(make_view(shape, strides, offset).transpose(dim0, dim1))


def torch_slice(shape, strides, offset, dim, start, stop, step):
    t = make_view(shape, strides, offset)
    index = [slice(None)] * t.ndim
    index[dim] = slice(start, stop, step)
    return header(t[tuple(index)])


def torch_element(index, strides, offset, shape) -> int:
    return int(make_view(shape, strides, offset)[tuple(index)])


# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    function: str
    kind: str
    args: tuple
    shape: tuple[int, ...] = ()  # element_offset: the shape of the view (for torch)

    def describe(self) -> str:
        return KINDS[self.kind]

    def expected(self):
        if self.function == "contiguous_strides":
            return torch_contiguous(*self.args)
        if self.function == "transpose_view":
            return torch_transpose(*self.args)
        if self.function == "slice_view":
            return torch_slice(*self.args)
        return torch_element(*self.args, self.shape)


KINDS = {
    "c_3d": "a 3-d shape",
    "c_4d_ones": "a 4-d shape with size-1 dimensions",
    "c_zero": "a shape with a size-0 dimension",
    "c_scalar": "the 0-dim shape ()",
    "t_contiguous": "a contiguous 3-d tensor, two non-negative dims",
    "t_negative": "a 4-d tensor and negative dims",
    "t_view": "a non-contiguous view with a storage offset",
    "s_step": "a slice with a start, a stop and a step > 1 of a contiguous tensor",
    "s_offset": "a slice of a view that already has a storage offset",
    "s_last": "a slice of the last dimension, with step 1",
    "s_none": "a slice with start None and stop None, with a step",
    "s_negative": "a slice with a negative start and a negative stop, along a negative dim",
    "s_clamp": "a slice whose stop is past the end (it is clamped to the size)",
    "e_contiguous": "an index into a contiguous 3-d tensor",
    "e_view": "an index into a non-contiguous view with a storage offset",
    "e_scalar": "the index () of a 0-dim tensor with a storage offset",
}


def _ints(gen: torch.Generator, k: int, lo: int, hi: int) -> list[int]:
    return [int(s) for s in torch.randint(lo, hi + 1, (k,), generator=gen)]


def _strided(gen: torch.Generator, shape: list[int]) -> tuple[list[int], int]:
    """Strides of a permuted, stepped view of a bigger row-major tensor, and an offset."""
    steps = _ints(gen, len(shape), 1, 3)
    padded = [s * d + p for s, d, p in zip(shape, steps, _ints(gen, len(shape), 0, 2), strict=True)]
    base = list(torch_contiguous(padded))
    order = torch.randperm(len(shape), generator=gen).tolist()
    strides = [base[j] * steps[j] for j in order]
    return strides, int(torch.randint(1, 40, (), generator=gen))


def make_case(kind: str, seed: int) -> Case:
    gen = torch.Generator().manual_seed(seed)
    if kind.startswith("c_"):
        fn = "contiguous_strides"
        if kind == "c_3d":
            shape = _ints(gen, 3, 2, 9)
        elif kind == "c_4d_ones":
            shape = _ints(gen, 4, 2, 7)
            shape[int(torch.randint(0, 2, (), generator=gen))] = 1
            shape[3] = 1 if int(torch.randint(0, 2, (), generator=gen)) else shape[3]
        elif kind == "c_zero":
            shape = _ints(gen, 3, 2, 7)
            shape[1] = 0  # not last: the convention shows
        else:
            shape = []
        return Case(fn, kind, (tuple(shape),))
    if kind.startswith("t_"):
        fn = "transpose_view"
        n = 4 if kind == "t_negative" else 3
        shape = _ints(gen, n, 2, 7)
        if kind == "t_view":
            strides, offset = _strided(gen, shape)
        else:
            strides, offset = list(torch_contiguous(shape)), 0
        d0, d1 = sorted(torch.randperm(n, generator=gen)[:2].tolist())
        if kind == "t_negative":
            d0, d1 = d0 - n, d1 - n
        return Case(fn, kind, (tuple(shape), tuple(strides), offset, d0, d1))
    if kind.startswith("s_"):
        fn = "slice_view"
        shape = _ints(gen, 3, 4, 12)
        if kind in ("s_offset", "s_negative"):
            strides, offset = _strided(gen, shape)
        else:
            strides, offset = list(torch_contiguous(shape)), 0
        dim = 2 if kind == "s_last" else int(torch.randint(0, 2, (), generator=gen))
        size = shape[dim]
        start = int(torch.randint(1, size // 2, (), generator=gen))
        stop = int(torch.randint(start + 2, size, (), generator=gen))  # start+2 <= stop < size
        step = int(torch.randint(2, 4, (), generator=gen))
        if (stop - start) % step == 0:
            stop -= 1  # the length is a rounded-up quotient: (stop - start) // step is too short
        if kind == "s_last":
            step = 1
        elif kind == "s_none":
            start, stop = None, None
        elif kind == "s_negative":
            start, stop, dim = start - size, stop - size, dim - 3
        elif kind == "s_clamp":
            stop = size + step + int(torch.randint(0, 5, (), generator=gen))  # clamping shows
        return Case(fn, kind, (tuple(shape), tuple(strides), offset, dim, start, stop, step))
    fn = "element_offset"
    if kind == "e_scalar":
        return Case(fn, kind, ((), (), int(torch.randint(1, 50, (), generator=gen))), ())
    shape = _ints(gen, 3, 2, 7)
    if kind == "e_view":
        strides, offset = _strided(gen, shape)
    else:
        strides, offset = list(torch_contiguous(shape)), 0
    index = [int(torch.randint(1, s, (), generator=gen)) for s in shape]  # no zero index
    return Case(fn, kind, (tuple(index), tuple(strides), offset), tuple(shape))


# ----------------------------------------------------------------------------- reading replies


def _reply(student: Student, case: Case):
    where = f"On {case.describe()}"
    try:
        return student.call(case.function, *case.args, timeout=CALL_TIMEOUT, driver=drive)
    except StudentError as error:
        raise StudentError(f"{where}: {error}") from None


def _int_tuple(reply, where: str, what: str) -> tuple[int, ...]:
    if reply.get("kind") not in ("tuple", "list") or any(
        item.get("kind") != "int" for item in reply["items"]
    ):
        raise GradingFailure(f"{where}, {what} is a {reply.get('kind')}; make it a tuple of ints.")
    values = tuple(item["int"] for item in reply["items"])
    if reply["kind"] != "tuple":
        raise GradingFailure(
            f"{where}, {what} is a {reply['kind']}; return a tuple (tuple(...)): a list never "
            "equals a tuple in Python."
        )
    return values


def _header(reply, where: str, fn: str):
    if reply.get("kind") not in ("tuple", "list") or len(reply["items"]) != 3:
        raise GradingFailure(
            f"{where}, {fn} did not return three things; return (shape, strides, offset)."
        )
    shape = _int_tuple(reply["items"][0], where, "the returned shape")
    strides = _int_tuple(reply["items"][1], where, "the returned strides")
    if reply["items"][2].get("kind") != "int":
        raise GradingFailure(f"{where}, the returned offset is not an int.")
    if reply["kind"] != "tuple":
        raise GradingFailure(
            f"{where}, {fn} returned a list; return the tuple (shape, strides, offset)."
        )
    return shape, strides, reply["items"][2]["int"]


def row_major(shape) -> tuple[int, ...]:
    """The row-major rule written out (for diagnoses): product of the sizes to the right."""
    out, step = [], 1
    for size in reversed(shape):
        out.append(step)
        step *= max(size, 1)
    return tuple(out[::-1])


# ----------------------------------------------------------------------------- runners


def _run_contiguous(student: Student, case: Case) -> None:
    where = f"On {case.describe()}"
    (shape,) = case.args
    got = _int_tuple(_reply(student, case), where, "the result")
    want = case.expected()
    if got == want:
        return
    if len(got) != len(want):
        raise GradingFailure(
            f"{where}, the result has {len(got)} strides; a shape with k dimensions has k strides"
            + (" (the 0-dim shape () has none: return ())." if not shape else ".")
        )
    column = tuple(reversed(row_major(tuple(reversed(shape)))))
    zero_as_zero = []
    step = 1
    for size in reversed(shape):
        zero_as_zero.append(step)
        step *= size
    zero_as_zero = tuple(zero_as_zero[::-1])
    inclusive = tuple(s * max(n, 1) for s, n in zip(want, shape, strict=True))
    if column != want and got == column:
        msg = "the strides are column-major (the first index moves fastest); torch's fresh"
        msg += " tensors are row-major: the LAST index has stride 1."
    elif any(got == tuple(e * s for s in want) for e in (2, 4, 8)):
        msg = "the strides are in bytes; torch counts strides in elements (no element size)."
    elif 0 in shape and got == zero_as_zero:
        msg = "a size-0 dimension made the strides to its left 0; torch counts a size 0 as 1"
        msg += (
            " in the product (a shape with a 0 has the strides of the same shape with a 1 there)."
        )
    elif got == inclusive:
        msg = "each stride includes its own dimension's size; stride j is the product of the"
        msg += " sizes strictly to the RIGHT of j (the last stride is 1)."
    else:
        msg = "the strides are not row-major: stride j is the product of the sizes right of j."
    raise GradingFailure(f"{where}, {msg}")


def _run_transpose(student: Student, case: Case) -> None:
    where = f"On {case.describe()}"
    shape, strides, offset, d0, d1 = case.args
    got = _header(_reply(student, case), where, "transpose_view")
    want = case.expected()
    if got == want:
        return
    if got[:2] == (tuple(shape), tuple(strides)):
        msg = "nothing was swapped"
        if d0 < 0 or d1 < 0:
            msg += ": a negative dim counts from the end (dim + len(shape)); normalise it first"
        raise GradingFailure(f"{where}, {msg}.")
    if got[0] == want[0] and got[1] == tuple(strides):
        raise GradingFailure(f"{where}, the sizes were swapped but not the strides; swap both.")
    if got[0] == want[0] and got[1] == row_major(want[0]):
        raise GradingFailure(
            f"{where}, the strides are those of a fresh tensor of the new shape; a transpose "
            "copies nothing, so it swaps the two existing strides."
        )
    if got[:2] == want[:2]:
        raise GradingFailure(
            f"{where}, the shape and strides are right but the offset is not: a transpose moves "
            "no data, so the storage offset stays what it was."
        )
    raise GradingFailure(f"{where}, the header is not that of t.transpose(dim0, dim1).")


def _slice_length(size: int, start, stop, step) -> tuple[int, int]:
    return len(range(size)[slice(start, stop, step)]), range(size)[slice(start, stop, step)][0]


def _run_slice(student: Student, case: Case) -> None:
    where = f"On {case.describe()}"
    shape, strides, offset, dim, start, stop, step = case.args
    got = _header(_reply(student, case), where, "slice_view")
    want = case.expected()
    if got == want:
        return
    n = len(shape)
    d = dim % n
    length, first = _slice_length(shape[d], start, stop, step)
    if len(got[0]) != n or len(got[1]) != n:
        raise GradingFailure(
            f"{where}, a slice keeps every dimension: return {n} sizes and strides."
        )
    if dim < 0 and got[0] == tuple(shape):
        raise GradingFailure(
            f"{where}, no dimension was sliced: a negative dim counts from the end "
            "(dim + len(shape)); normalise it first."
        )
    if any(got[0][j] != shape[j] for j in range(n) if j != d):
        raise GradingFailure(f"{where}, the slice changed the size of a dimension other than dim.")
    msgs = []
    if got[0][d] != length:
        lo, hi = slice(start, stop, step).indices(shape[d])[:2]
        if step > 1 and got[0][d] == (hi - lo) // step:
            msgs.append(
                "the sliced size is one short: a slice keeps ceil((stop − start) / step) "
                "elements, that is (stop − start + step − 1) // step"
            )
        elif step > 1 and got[0][d] == hi - lo:
            msgs.append("the sliced size ignores the step: divide (rounding up) by the step")
        elif case.kind == "s_clamp":
            msgs.append("a stop past the end is clamped to the size, as Python slices do")
        elif case.kind == "s_negative":
            msgs.append("a negative start or stop counts from the end (add the size)")
        elif case.kind == "s_none":
            msgs.append("start None means 0 and stop None means the size")
        else:
            msgs.append("the sliced dimension has the wrong size")
    if got[1][d] != want[1][d]:
        if got[1][d] == strides[d] and step > 1:
            msgs.append(
                "the sliced dimension kept its stride; taking every step-th element multiplies "
                "the stride by step"
            )
        else:
            msgs.append("the sliced dimension's stride is not stride · step")
    elif got[1] != want[1]:
        msgs.append("a dimension that was not sliced changed its stride")
    if got[2] != want[2]:
        if got[2] == offset and first != 0:
            msgs.append(
                "the storage offset did not move: the slice starts at element start, so the "
                "offset grows by start · stride"
            )
        elif got[2] == first * strides[d] and offset != 0:
            msgs.append(
                "the offset forgets the view's own storage offset: add start · stride to it"
            )
        elif got[2] == offset + first * strides[d] * step:
            msgs.append("the offset moved by start · stride · step; it moves by start · stride")
        else:
            msgs.append(
                "the storage offset is not offset + start · stride (start after the"
                " slice rules: None, negative, clamped)"
            )
    raise GradingFailure(f"{where}, " + "; ".join(msgs) + ".")


def _run_element(student: Student, case: Case) -> None:
    where = f"On {case.describe()}"
    index, strides, offset = case.args
    reply = _reply(student, case)
    if reply.get("kind") != "int":
        raise GradingFailure(
            f"{where}, element_offset returned a {reply.get('kind')}; return an int."
        )
    got, want = reply["int"], case.expected()
    if got == want:
        return
    plain = sum(i * s for i, s in zip(index, strides, strict=True))
    if got == plain and offset:
        msg = "the result forgets the storage offset: add offset to Σ index_j · stride_j."
    elif index and got == offset + sum(
        i * s for i, s in zip(index, reversed(strides), strict=True)
    ):
        msg = "index j is paired with the strides in reverse order; pair index_j with stride_j."
    else:
        msg = "the position is not offset + Σ index_j · stride_j."
    raise GradingFailure(f"{where}, {msg}")


# ----------------------------------------------------------------------------- parts

PARTS: dict[str, tuple[str, ...]] = {
    "contiguous_strides": ("c_3d", "c_4d_ones", "c_zero", "c_scalar"),
    "transpose_view": ("t_contiguous", "t_negative", "t_view"),
    "slice_view_basic": ("s_step", "s_offset", "s_last"),
    "slice_view_rules": ("s_none", "s_negative", "s_clamp"),
    "element_offset": ("e_contiguous", "e_view", "e_scalar"),
}
DESCRIPTIONS = {
    "contiguous_strides": "contiguous_strides on 3-d, 4-d, size-0 and 0-dim shapes",
    "transpose_view": "transpose_view (non-negative and negative dims, a view with an offset)",
    "slice_view_basic": "slice_view with start/stop/step, on contiguous tensors and views",
    "slice_view_rules": "slice_view with None, negative start/stop/dim and a clamped stop",
    "element_offset": "element_offset on contiguous tensors, views and a 0-dim tensor",
}
POINTS = {
    "contiguous_strides": 2,
    "transpose_view": 2,
    "slice_view_basic": 2,
    "slice_view_rules": 2,
    "element_offset": 2,
}
RUNNERS = {
    "contiguous_strides": _run_contiguous,
    "transpose_view": _run_transpose,
    "slice_view_basic": _run_slice,
    "slice_view_rules": _run_slice,
    "element_offset": _run_element,
}


def cases_for(seed: int, grade_id: str) -> list[Case]:
    """The hidden cases of one part for the submission's ``seed``."""
    return [
        make_case(kind, derive_seed(seed, f"{grade_id}/{i}"))
        for i, kind in enumerate(PARTS[grade_id])
    ]


CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, RUNNERS)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the hidden shapes, strides and indices of two or more entries, and the expected headers."""
    out: list[str] = []
    for grade_id in PARTS:
        for case in cases_for(seed, grade_id):
            tuples = [a for a in case.args if isinstance(a, tuple)]
            want = case.expected()
            if isinstance(want, tuple):
                tuples += (
                    [w for w in want if isinstance(w, tuple)]
                    if case.function != ("contiguous_strides")
                    else [want]
                )
            out += [repr(t) for t in tuples if len(t) >= 2 and math.prod(t) != 0 or len(t) >= 3]
    return list(dict.fromkeys(out))
