"""Grader for the chapter 2 set: broadcasting by hand.

Student API (chapter 2, ``fromscratch.broadcast`` implements the same pieces):

- ``broadcast_shape(shape_a, shape_b)``: the broadcast shape as a tuple, by the rule (align from
  the right, sizes equal or one of them 1, missing counts as 1); for shapes that do not
  broadcast, raise ``ValueError`` whose message names the two clashing sizes.
- ``broadcast_by_strides(t, shape)``: a view of ``t`` with shape ``shape`` made with
  ``as_strided``: ``t``'s own stride where its size matches, stride 0 where it is stretched (size
  1 or missing), ``t``'s storage offset, no copy. ``t`` may itself be a non-contiguous view.
- ``pairwise_sq_distances(x, y)``: D[i, j] = ‖x_i − y_j‖² for x (n, d), y (m, d), by broadcasting.

Forbidden (``fromscratch.rules.CH02``): the course's reference code and torch's own broadcasting
routines (expand, expand_as, broadcast_to, broadcast_tensors, broadcast_shapes) everywhere; the
ready-made products (matmul, @, dot, einsum, cdist, ...) inside ``pairwise_sq_distances``.

Exactness. Shapes and strides are integers and ``broadcast_by_strides`` only re-reads stored
numbers, so both are checked exactly: the shape by ``torch.broadcast_shapes`` (run here, in the
trusted process, where it is allowed), the view by its values, its strides, its storage offset
and its storage (the driver below runs in the sandbox: tensors do not cross the wire as views).

Tolerance of ``pairwise_sq_distances``. Let S = max_i ‖x_i‖² + max_j ‖y_j‖². Every entry obeys
D_ij ≤ 2(‖x_i‖² + ‖y_j‖²) ≤ 2S. Forming x_i − y_j, squaring and summing d terms costs at most
about (d + 2)·u relative to the sum of the absolute terms, i.e. ≤ (d + 2)·u·2S, and so does the
expansion ‖x_i‖² − 2 Σ_k x_ik y_jk + ‖y_j‖² computed with elementwise products (its terms sum to
at most 2S in absolute value). With d ≤ 8: float32 (u = 2⁻²⁴) gives 1.2e-6 ≤ tol = 1e-5 (margin
8); float64 (u = 2⁻⁵³) gives 2.2e-15 ≤ tol = 1e-12 (margin 450, which also covers the float64
rounding of the expected value computed here). A case passes when max_ij |D_ij − E_ij| ≤ tol·S.

Hidden inputs per submission: every case draws its shapes, tensors and scales from
``derive_seed(seed, "<grade_id>/<i>")``. Messages name the case's kind (never its shapes or
numbers) and the likely mistake; ``hidden_values`` lists what must never appear in feedback.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    derive_seed,
    part_checks,
)
from fromscratch.rules import CH02 as RULES

TOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
SHORTCUT_HINTS = {
    "expand": "apply the rule yourself (shapes by hand, the view with as_strided and stride 0,"
    " distances with x[:, None, :] - y[None, :, :])",
    "matmul": "broadcast x[:, None, :] - y[None, :, :] (or multiply elementwise and sum)",
    "dot": "broadcast x[:, None, :] - y[None, :, :] (or multiply elementwise and sum)",
    "einsum": "broadcast x[:, None, :] - y[None, :, :] (or multiply elementwise and sum)",
    "reference": "write it yourself, as the chapter explains",
}

CALL_TIMEOUT = 10.0  # seconds per call; every call here takes milliseconds


# ----------------------------------------------------------------------------- drivers (sandbox)


def drive_shape(target, shape_a, shape_b):
    """Run in the sandbox: call broadcast_shape and report its result or its exception."""
    try:
        result = target(tuple(shape_a), tuple(shape_b))
    except Exception as exc:  # noqa: BLE001  (the student's exception is the graded outcome)
        return {
            "raised": type(exc).__name__,
            "value_error": isinstance(exc, ValueError),
            "message": str(exc)[:500],
        }
    if isinstance(result, (tuple, list)) and all(type(s) is int for s in result):
        return {"result": result, "kind": type(result).__name__}
    return {"other": type(result).__name__}


def drive_view(target, base, ops, shape):
    """Run in the sandbox: build the view t of ``base`` (ops: transpose / slice), call
    broadcast_by_strides(t, shape), and report what the result is made of."""
    import torch

    t = base
    for op in ops:
        if op[0] == "transpose":
            t = t.transpose(op[1], op[2])
        else:  # ["slice", dim, start, stop, step]
            index = [slice(None)] * t.ndim
            index[op[1]] = slice(op[2], op[3], op[4])
            t = t[tuple(index)]
    out = target(t, tuple(shape))
    if type(out) is not torch.Tensor:
        return {"other": type(out).__name__}
    return {
        "shape": list(out.shape),
        "strides": list(out.stride()),
        "offset": out.storage_offset(),
        "shares": out.untyped_storage().data_ptr() == t.untyped_storage().data_ptr(),
        "values": out.detach().clone(),
    }


# ----------------------------------------------------------------------------- broadcast_shape


@dataclass(frozen=True)
class ShapeCase:
    kind: str
    a: tuple[int, ...]
    b: tuple[int, ...]
    clash: tuple[int, int] | None  # the two clashing sizes of an incompatible pair

    def describe(self) -> str:
        return SHAPE_KINDS[self.kind]


SHAPE_KINDS = {
    "lengths": "two shapes of different lengths with 1s on both sides",
    "scalar": "a scalar shape () with a longer shape",
    "zero": "shapes with a size-0 dimension (against 1 and against a missing dimension)",
    "same_length": "two shapes of the same length with 1s on both sides",
    "clash": "two shapes of the same length with one clashing pair of sizes",
    "clash_left": "two shapes of different lengths that clash when aligned from the right (but"
    " not from the left)",
    "clash_zero": "two shapes where a size 0 meets a size other than 0 and 1",
}
COMPATIBLE = ("lengths", "scalar", "zero", "same_length")
INCOMPATIBLE = ("clash", "clash_left", "clash_zero")


def _sizes(gen: torch.Generator, k: int, lo: int = 2, hi: int = 9) -> list[int]:
    return [int(s) for s in torch.randint(lo, hi + 1, (k,), generator=gen)]


def _ones(gen: torch.Generator, sizes: list[int], p: float = 0.5) -> list[int]:
    return [1 if float(torch.rand((), generator=gen)) < p else s for s in sizes]


def _swap(gen: torch.Generator, a: tuple, b: tuple) -> tuple[tuple, tuple]:
    return (b, a) if int(torch.randint(0, 2, (), generator=gen)) else (a, b)


def shape_case(kind: str, seed: int) -> ShapeCase:
    """One pair of shapes of the given kind, drawn from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    clash = None
    if kind == "lengths":  # result (S0, S1, S2, S3); a has all 4 dims, b the last 2 or 3
        full = _sizes(gen, 4)
        nb = int(torch.randint(2, 4, (), generator=gen))
        a = [1 if j in (1, 3) else s for j, s in enumerate(full)]  # 1s where b has sizes
        b = [full[j] if j in (1, 3) else 1 for j in range(4 - nb, 4)]
        a, b = tuple(a), tuple(b)
    elif kind == "scalar":
        a, b = (), tuple(_ones(gen, _sizes(gen, 3), 0.3))
    elif kind == "zero":  # (0, 1, s) with (1, t, s) minus its first dim... 0 vs 1, 0 vs missing
        s, t = _sizes(gen, 2)
        a, b = (0, 1, s), (t, 1)  # result (0, t, s)
    elif kind == "same_length":
        full = _sizes(gen, 3)
        a = tuple(1 if j == 0 else s for j, s in enumerate(full))
        b = tuple(1 if j == 2 else s for j, s in enumerate(full))
    elif kind == "clash":  # same length, exactly one pair p != q, both >= 2
        full = _sizes(gen, 3)
        j = int(torch.randint(0, 3, (), generator=gen))
        other = full[j] + int(torch.randint(1, 4, (), generator=gen))
        a = tuple(full)
        b = tuple(other if i == j else (1 if i != j and i % 2 else s) for i, s in enumerate(full))
        clash = (full[j], other)
    elif kind == "clash_left":  # a = (p, q) , b = (p,): from the right q vs p clash
        p, q = _sizes(gen, 2, 2, 8)
        q = q if q != p else p + 1
        a, b = (p, q), (p,)
        clash = (q, p)
    else:  # clash_zero: (s, 0) against (s, r), r >= 2
        s, r = _sizes(gen, 2)
        a, b = (s, 0), (1, r)
        clash = (0, r)
    a, b = _swap(gen, a, b)
    return ShapeCase(kind, a, b, clash)


def _left_aligned(a: tuple, b: tuple) -> tuple | None:
    n = max(len(a), len(b))
    a, b = a + (1,) * (n - len(a)), b + (1,) * (n - len(b))
    out = []
    for p, q in zip(a, b, strict=True):
        if p != q and 1 not in (p, q):
            return None
        out.append(q if p == 1 else p)
    return tuple(out)


def _max_rule(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(max(p, q) for p, q in zip(a, b, strict=True))


def _shape_reply(student: Student, case: ShapeCase) -> dict:
    where = f"On {case.describe()}"
    try:
        return student.call(
            "broadcast_shape", case.a, case.b, timeout=CALL_TIMEOUT, driver=drive_shape
        )
    except StudentError as error:
        raise StudentError(f"{where}: {error}") from None


def _run_compatible(student: Student, case: ShapeCase) -> None:
    expected = tuple(torch.broadcast_shapes(case.a, case.b))
    reply = _shape_reply(student, case)
    where = f"On {case.describe()}"
    if "raised" in reply:
        raise GradingFailure(
            f"{where}, broadcast_shape raised {reply['raised']}, but these shapes broadcast: "
            "compare from the right, and a missing dimension or a size 1 stretches to the other "
            "size."
            + (" A size 0 is an ordinary size: 0 against 1 (or missing) gives 0."
               if case.kind == "zero" else "")
        )  # fmt: skip
    if "other" in reply:
        raise GradingFailure(
            f"{where}, broadcast_shape returned a {reply['other']}; return a tuple of ints."
        )
    result = tuple(reply["result"])
    if reply["kind"] != "tuple":
        if result == expected:
            raise GradingFailure(
                f"{where}, broadcast_shape returned a list with the right sizes; return a tuple "
                "(tuple(sizes)): a list never equals a tuple in Python."
            )
        raise GradingFailure(f"{where}, broadcast_shape returned a list; return a tuple of ints.")
    if result == expected:
        return
    if len(result) != len(expected):
        raise GradingFailure(
            f"{where}, the result has {len(result)} dimensions; a broadcast shape has as many "
            "dimensions as the longer shape (the shorter one is padded on the left)."
        )
    if result == _left_aligned(case.a, case.b):
        raise GradingFailure(
            f"{where}, the result matches aligning the shapes from the LEFT; the rule compares "
            "them from the right, at their last dimension, and pads the shorter one on the left."
        )
    if case.kind == "zero" and result == _max_rule(case.a, case.b):
        raise GradingFailure(
            f"{where}, the result takes the larger size, but 0 against 1 gives 0: the result "
            "takes the size that is not 1, not the maximum."
        )
    raise GradingFailure(f"{where}, the result is not the broadcast shape.")


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", text)}


def _run_incompatible(student: Student, case: ShapeCase) -> None:
    reply = _shape_reply(student, case)
    where = f"On {case.describe()}"
    if "result" in reply or "other" in reply:
        hint = {
            "clash": "two sizes that differ, neither of them 1, cannot broadcast",
            "clash_left": "you may be aligning the shapes from the left; the rule aligns them "
            "at their last dimension, where these sizes differ and neither is 1",
            "clash_zero": "0 and a size other than 1 differ, and neither is 1",
        }[case.kind]
        raise GradingFailure(
            f"{where}, broadcast_shape returned a result instead of raising ValueError: {hint}."
        )
    if not reply["value_error"]:
        raise GradingFailure(
            f"{where}, broadcast_shape raised {reply['raised']}; raise ValueError (e.g. "
            "`raise ValueError(f'... sizes {p} and {q} at dimension {j} ...')`)."
        )
    p, q = case.clash
    if not {p, q} <= _numbers(reply["message"]):
        raise GradingFailure(
            f"{where}, broadcast_shape raised ValueError, but its message does not name both "
            "clashing sizes (as numbers): say which two sizes clash, and at which dimension."
        )


# ----------------------------------------------------------------------------- broadcast_by_strides


@dataclass(frozen=True)
class ViewCase:
    kind: str
    base_shape: tuple[int, ...]
    ops: tuple[tuple, ...]
    shape: tuple[int, ...]
    seed: int

    def base(self) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed)
        n = math.prod(self.base_shape)
        return (torch.randperm(n, generator=gen).to(torch.float64) + 0.5).reshape(self.base_shape)

    def view(self) -> torch.Tensor:
        """The same view the driver builds in the sandbox."""
        t = self.base()
        for op in self.ops:
            if op[0] == "transpose":
                t = t.transpose(op[1], op[2])
            else:
                index = [slice(None)] * t.ndim
                index[op[1]] = slice(op[2], op[3], op[4])
                t = t[tuple(index)]
        return t

    def describe(self) -> str:
        return VIEW_KINDS[self.kind]


VIEW_KINDS = {
    "row": "a contiguous row vector stretched to more rows and a new leading dimension",
    "column": "a contiguous column (size-1 last dimension) stretched along it",
    "middle": "a contiguous 3-d tensor with a size-1 middle dimension",
    "transposed": "a transposed (non-contiguous) tensor with a size-1 dimension",
    "offset": "a slice with a non-zero storage offset",
    "stepped": "a slice with a step (non-contiguous) and a storage offset",
}
CONTIGUOUS_KINDS = ("row", "column", "middle")
NONCONTIGUOUS_KINDS = ("transposed", "offset", "stepped")


def view_case(kind: str, seed: int) -> ViewCase:
    gen = torch.Generator().manual_seed(seed)
    p, q, r = _sizes(gen, 3, 2, 5)
    if kind == "row":  # (1, q) -> (r, p, q)
        return ViewCase(kind, (1, q), (), (r, p, q), seed)
    if kind == "column":  # (p, 1) -> (p, q)
        return ViewCase(kind, (p, 1), (), (p, q), seed)
    if kind == "middle":  # (p, 1, q) -> (r, p, r + 1, q)
        return ViewCase(kind, (p, 1, q), (), (r, p, r + 1, q), seed)
    if kind == "transposed":  # base (1, p, q) -> transpose(0, 2): (q, p, 1), strides (1, q, pq)
        return ViewCase(kind, (1, p, q), (("transpose", 0, 2),), (r, q, p, r + 1), seed)
    if kind == "offset":  # base (p + 2, q + 1)[2:, 1:2]: (p, 1), offset 2(q + 1) + 1
        return ViewCase(kind, (p + 2, q + 1), (("slice", 0, 2, None, 1), ("slice", 1, 1, 2, 1)),
                        (p, q + 2), seed)  # fmt: skip
    # stepped: base (1, 2q + 1, p)[:, 1::2, :] -> (1, q, p), strides (.., 2p, 1), offset p
    return ViewCase(kind, (1, 2 * q + 1, p), (("slice", 1, 1, None, 2),), (r, q, p), seed)


def _expected_strides(t: torch.Tensor, shape: tuple[int, ...]) -> list[int | None]:
    """Per target dimension: the stride it must have (0 where stretched), None if any works."""
    lead = len(shape) - t.ndim
    out: list[int | None] = []
    for j, size in enumerate(shape):
        own = t.shape[j - lead] if j >= lead else None
        if size == 1:
            out.append(None)  # a size-1 dimension's stride is never used
        elif own is None or own == 1:
            out.append(0)
        else:
            out.append(t.stride(j - lead))
    return out


def _contiguous_strides(shape: tuple[int, ...]) -> list[int]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return strides[::-1]


def _run_view(student: Student, case: ViewCase) -> None:
    where = f"On {case.describe()}"
    base, t = case.base(), case.view()
    try:
        reply = student.call(
            "broadcast_by_strides",
            base,
            [list(op) for op in case.ops],
            list(case.shape),
            timeout=CALL_TIMEOUT,
            driver=drive_view,
        )
    except StudentError as error:
        text = str(error)
        if "out of bounds for storage" in text:
            text += (
                " Hint: the view reads past t's storage, so a stretched dimension (size 1 or "
                "missing in t) kept a non-zero stride: give it stride 0."
            )
        raise StudentError(f"{where}: {text}") from None
    if "other" in reply:
        raise GradingFailure(
            f"{where}, broadcast_by_strides returned a {reply['other']}; return the view "
            "(a torch.Tensor made with t.as_strided)."
        )
    if tuple(reply["shape"]) != case.shape:
        raise GradingFailure(
            f"{where}, the result does not have the target shape: pass `shape` as the size "
            "argument of as_strided."
        )
    if not reply["shares"]:
        raise GradingFailure(
            f"{where}, the result does not share t's storage: it is a copy. Build it from t "
            "itself with t.as_strided(shape, strides, offset); t.contiguous(), clone(), "
            "repeat() and arithmetic all copy."
        )
    want = _expected_strides(t, case.shape)
    got = reply["strides"]
    stretched = [j for j, w in enumerate(want) if w == 0]
    if any(got[j] != 0 for j in stretched):
        raise GradingFailure(
            f"{where}, a stretched dimension (size 1 or missing in t, larger in the target) has "
            "a non-zero stride; give it stride 0, so that every index along it reads the same "
            "elements."
        )
    kept = [j for j, w in enumerate(want) if w not in (None, 0)]
    if any(got[j] != want[j] for j in kept):
        lead = len(case.shape) - t.ndim
        contiguous = _contiguous_strides(tuple(t.shape))
        if all(got[j] == contiguous[j - lead] for j in kept) and not t.is_contiguous():
            raise GradingFailure(
                f"{where}, the kept dimensions have the strides of a contiguous tensor of t's "
                "shape, but t is not contiguous: use t's own strides (t.stride()) there."
            )
        raise GradingFailure(
            f"{where}, a dimension that t has at full size does not keep t's own stride "
            "(t.stride() of the aligned dimension)."
        )
    if reply["offset"] != t.storage_offset():
        raise GradingFailure(
            f"{where}, the view starts at the wrong storage element: t starts at storage offset "
            "t.storage_offset(), not 0; pass it to as_strided (or leave the argument out)."
        )
    if not torch.equal(reply["values"], torch.broadcast_to(t, case.shape)):
        raise GradingFailure(f"{where}, the view's values are not t broadcast to the shape.")


# ----------------------------------------------------------------------------- pairwise distances


@dataclass(frozen=True)
class DistCase:
    n: int
    m: int
    d: int
    dtype: torch.dtype
    seed: int

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed)
        scale = math.exp(
            float(torch.empty(()).uniform_(math.log(0.5), math.log(20), generator=gen))
        )
        centre = torch.randn(self.d, generator=gen, dtype=torch.float64) * 2 * scale  # (d,)
        x = centre + scale * torch.randn(self.n, self.d, generator=gen, dtype=torch.float64)
        y = centre + scale * torch.randn(self.m, self.d, generator=gen, dtype=torch.float64)
        return x.to(self.dtype), y.to(self.dtype)  # (n, d), (m, d)

    def describe(self) -> str:
        kind = str(self.dtype).removeprefix("torch.")
        same = "the same number of" if self.n == self.m else "different numbers of"
        return f"{kind} point sets with {same} points"


def exact_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """E[i, j] = ‖x_i − y_j‖² in float64 (the trusted reference)."""
    diff = x.double()[:, None, :] - y.double()[None, :, :]  # (n, 1, d) - (1, m, d) -> (n, m, d)
    return (diff**2).sum(dim=-1)  # (n, m)


def scale_of(x: torch.Tensor, y: torch.Tensor) -> float:
    """S = max_i ‖x_i‖² + max_j ‖y_j‖² (the tolerance is relative to it)."""
    return float((x.double() ** 2).sum(-1).max() + (y.double() ** 2).sum(-1).max())


def dist_case(grade_id: str, i: int, seed: int) -> DistCase:
    gen = torch.Generator().manual_seed(seed)
    n, m, d = _sizes(gen, 3, 2, 8)
    if i == 0 and n == m:
        m = n + 1  # the first case always has n != m
    if i == 1:
        m = n  # the second case n == m: (n, d) - (n, d) without unsqueeze gives no error
    dtype = torch.float64 if grade_id.endswith("float64") else torch.float32
    return DistCase(n, m, d, dtype, seed)


def _run_dist(student: Student, case: DistCase) -> None:
    where = f"On {case.describe()}"
    x, y = case.inputs()
    try:
        got = student.call("pairwise_sq_distances", x, y, timeout=CALL_TIMEOUT)
    except StudentError as error:
        text = str(error)
        if "must match the size" in text or "size of tensor" in text:
            text += (
                " Hint: x - y pairs row i with row i; give x a size-1 axis for y's points and y "
                "one for x's: x[:, None, :] - y[None, :, :] has shape (n, m, d)."
            )
        raise StudentError(f"{where}: {text}") from None
    if not isinstance(got, torch.Tensor):
        raise GradingFailure(
            f"{where}, pairwise_sq_distances returned a {type(got).__name__}; return an (n, m) "
            "tensor."
        )
    n, m, d = case.n, case.m, case.d
    shape = tuple(got.shape)
    if shape != (n, m):
        if n != m and shape == (m, n):
            msg = "the result is (m, n): D[i, j] pairs row i of x with row j of y, so x's axis "
            msg += "comes first."
        elif shape in ((n, d), (n,)) and n == m:
            msg = (
                "the result is not (n, m): x - y without a new axis subtracts row i of y from "
                "row i of x only; use x[:, None, :] - y[None, :, :] (shape (n, m, d))."
            )
        elif shape == (n, m, d):
            msg = "the result is (n, m, d): sum the squared differences over the last axis."
        else:
            msg = "the result does not have shape (n, m) (n points in x, m in y)."
        raise GradingFailure(f"{where}, {msg}")
    if not got.is_floating_point():
        raise GradingFailure(f"{where}, the result is an integer tensor; keep x's dtype.")
    want = exact_distances(x, y)
    s = scale_of(x, y)
    tol = TOL[case.dtype]
    err = float((got.double() - want).abs().max())
    if err <= tol * s:
        return
    if math.isnan(err):
        raise GradingFailure(f"{where}, the result contains nan.")

    def near(candidate: torch.Tensor) -> bool:
        return float((got.double() - candidate).abs().max()) <= 1e-3 * s

    differences = x.double()[:, None, :] - y.double()[None, :, :]  # (n, m, d)
    if near(differences.sum(-1)):
        msg = "the result sums the differences x_ik − y_jk without squaring them: square each."
    elif near(want.sqrt()):
        msg = "the result is the distance ‖x_i − y_j‖, not its square: do not take the root."
    elif near(differences.abs().sum(-1)):
        msg = "the result sums |x_ik − y_jk|; square the differences instead."
    elif near(differences.sum(-1) ** 2):
        msg = "the result squares the sum of the differences; square each difference, then sum."
    elif near(want.T) and n == m:
        msg = "the result is transposed: D[i, j] pairs row i of x with row j of y."
    else:
        msg = (
            f"max |D − E| is {err / s:.2g}·S (S = max‖x_i‖² + max‖y_j‖²); grading needs"
            f" ≤ {tol:g}·S."
        )
    raise GradingFailure(f"{where}, {msg}")


# ----------------------------------------------------------------------------- parts

PARTS: dict[str, tuple[str, ...]] = {
    "broadcast_shape_compatible": COMPATIBLE,
    "broadcast_shape_errors": INCOMPATIBLE,
    "broadcast_by_strides_contiguous": CONTIGUOUS_KINDS,
    "broadcast_by_strides_views": NONCONTIGUOUS_KINDS,
    "pairwise_sq_distances_float64": ("0", "1"),
    "pairwise_sq_distances_float32": ("0", "1"),
}
DESCRIPTIONS = {
    "broadcast_shape_compatible": "broadcast_shape on shapes that broadcast (different lengths,"
    " (), size 0)",
    "broadcast_shape_errors": "broadcast_shape raises ValueError naming the clashing sizes",
    "broadcast_by_strides_contiguous": "broadcast_by_strides on contiguous tensors (values,"
    " stride 0, shared storage)",
    "broadcast_by_strides_views": "broadcast_by_strides on non-contiguous views with storage"
    " offsets",
    "pairwise_sq_distances_float64": "pairwise_sq_distances in float64",
    "pairwise_sq_distances_float32": "pairwise_sq_distances in float32",
}
POINTS = {
    "broadcast_shape_compatible": 2,
    "broadcast_shape_errors": 2,
    "broadcast_by_strides_contiguous": 1,
    "broadcast_by_strides_views": 2,
    "pairwise_sq_distances_float64": 2,
    "pairwise_sq_distances_float32": 1,
}


def cases_for(seed: int, grade_id: str) -> list:
    """The hidden cases of one part for the submission's ``seed``."""
    out = []
    for i, kind in enumerate(PARTS[grade_id]):
        case_seed = derive_seed(seed, f"{grade_id}/{i}")
        if grade_id.startswith("broadcast_shape"):
            out.append(shape_case(kind, case_seed))
        elif grade_id.startswith("broadcast_by_strides"):
            out.append(view_case(kind, case_seed))
        else:
            out.append(dist_case(grade_id, i, case_seed))
    return out


def _runner(grade_id: str):
    if grade_id == "broadcast_shape_compatible":
        return _run_compatible
    if grade_id == "broadcast_shape_errors":
        return _run_incompatible
    if grade_id.startswith("broadcast_by_strides"):
        return _run_view
    return _run_dist


CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, _runner)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the hidden shapes of three or more dimensions (pairs, results, view targets), and the first
    coordinates and distances of the hidden point sets."""
    out: list[str] = []
    for grade_id in PARTS:
        for case in cases_for(seed, grade_id):
            if isinstance(case, ShapeCase):
                shapes = [case.a, case.b]
                if case.clash is None:
                    shapes.append(tuple(torch.broadcast_shapes(case.a, case.b)))
                out += [repr(s) for s in shapes if len(s) >= 3]
            elif isinstance(case, ViewCase):
                out += [repr(case.shape)] if len(case.shape) >= 3 else []
            else:
                x, y = case.inputs()
                out += [f"{v:.6f}" for v in x.reshape(-1).tolist()[:3]]
                out += [f"{v:.6f}" for v in exact_distances(x, y).reshape(-1).tolist()[:3]]
    return list(dict.fromkeys(out))
