"""Grader for the chapter 3 set: the matrix product three ways.

Student API (chapter 3, ``fromscratch.matmul`` implements the same pieces):

- ``matmul_loops(a, b)``: ``(m, k) @ (k, n)`` by Python loops (scalar multiply-adds, or a loop
  over (i, j) with an elementwise product summed; a dot product of two 1-D rows is allowed).
- ``matmul_broadcast(a, b)``: by broadcasting, ``(m, k, 1) * (1, k, n)`` summed over k (or one
  loop over rows with broadcasting inside).
- ``matmul_einsum(a, b)``: with ``torch.einsum``.

Forbidden (``fromscratch.rules.CH03``): the course's reference code everywhere; the ready-made
products ``matmul`` (``@`` of matrices, mm, mv, ...) and ``einsum`` in ``matmul_loops``;
``matmul``, ``dot`` and ``einsum`` in ``matmul_broadcast``; ``matmul`` and ``dot`` in
``matmul_einsum``.

Tolerance: the chapter's rounding-error bound, entry by entry. Every hidden input is a float32
or float64 matrix; the expected product E = AB of the very numbers sent (after rounding to the
dtype) is computed EXACTLY here, in rational arithmetic (``fractions.Fraction``: every float is
a dyadic rational). A correct float computation of a length-k dot product, in any summation
order, with or without fused multiply-adds, obeys

    |C_ij − E_ij| ≤ γ_k (|A||B|)_ij,   γ_k = k u / (1 − k u)        (chapter 3, Higham)

and, sharper, |C_ij − E_ij| ≤ k u (|A||B|)_ij (Jeannerod and Rump, 2013), u the unit roundoff
of the dtype (2⁻²⁴ float32, 2⁻⁵³ float64). The grader accepts an entry when

    |C_ij − E_ij| ≤ bound_factor · k · u · (|A||B|)_ij,   bound_factor = 1,

evaluated exactly (no rounding in the check itself). No absolute floor is needed: every input
entry has magnitude in [1/4, 4], so no product or partial sum underflows (the bound's only
assumption). For k ≤ 8, γ_k and k·u differ by a relative 5·10⁻⁷ (float32), so the check is the
chapter's bound. Accumulating in float64 and rounding the result to float32 once is also within
it (that adds at most u|C_ij| ≤ u(|A||B|)_ij for k ≥ 2, and nothing else for k = 1, where the
float64 product of two float32 numbers is exact). Every mistake below is off by a sizeable
fraction of |A||B|, far outside the bound.

Hidden inputs per submission: every case draws its shapes (m, k, n ≤ 8) and matrices from
``derive_seed(seed, "<grade_id>/<i>")``. Messages name the case's kind (never its shapes or
numbers) and the likely mistake; ``hidden_values`` lists what must never appear in feedback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    derive_seed,
    part_checks,
)
from fromscratch.rules import CH03 as RULES

BOUND_FACTOR = Fraction(RULES.tolerances["bound_factor"])
UNIT_ROUNDOFF = {torch.float32: Fraction(1, 2**24), torch.float64: Fraction(1, 2**53)}
SHORTCUT_HINTS = {
    "matmul": "multiply and add the entries yourself, as the chapter's rungs 1 to 4 do",
    "dot": "multiply elementwise and sum (a[i, :, None] * b, or a[:, :, None] * b[None])",
    "einsum": "matmul_einsum is the one function where torch.einsum belongs",
    "reference": "write it yourself, as the chapter explains",
}

CALL_TIMEOUT = 10.0  # seconds per call; the largest hidden call (8 x 8 x 8 loops) takes ~20 ms

# ----------------------------------------------------------------------------- cases

KINDS = {
    "inner_long": "a product with a long inner dimension (k larger than m and n)",
    "inner_one": "a product with inner dimension k = 1 (an outer product)",
    "tall": "a product with more rows than the inner dimension (m larger than k)",
    "one_row": "a product of a single row (m = 1) with a matrix",
}


@dataclass(frozen=True)
class Case:
    kind: str
    m: int
    k: int
    n: int
    dtype: torch.dtype
    seed: int

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """a (m, k) and b (k, n) in the case's dtype; every entry ±2^t with t in [−2, 2]."""
        gen = torch.Generator().manual_seed(self.seed)

        def draw(rows: int, cols: int) -> torch.Tensor:
            t = torch.empty(rows, cols, dtype=torch.float64).uniform_(-2.0, 2.0, generator=gen)
            sign = torch.randint(0, 2, (rows, cols), generator=gen, dtype=torch.float64) * 2 - 1
            return (sign * torch.exp2(t)).to(self.dtype)  # (rows, cols), |entries| in [1/4, 4]

        return draw(self.m, self.k), draw(self.k, self.n)

    def describe(self) -> str:
        return f"{KINDS[self.kind]}, {str(self.dtype).removeprefix('torch.')}"


def _size(gen: torch.Generator, lo: int, hi: int, avoid: tuple[int, ...] = ()) -> int:
    choices = [s for s in range(lo, hi + 1) if s not in avoid]
    return choices[int(torch.randint(0, len(choices), (), generator=gen))]


def make_case(kind: str, dtype: torch.dtype, seed: int) -> Case:
    """One case of the given kind: m, k, n ≤ 8, m ≠ n (a swapped result shape is visible) and k
    different from m and n except in inner_one (so a sum over the wrong axis has another shape)."""
    gen = torch.Generator().manual_seed(seed)
    if kind == "inner_long":  # m, n in 2..5, k in 6..8
        m = _size(gen, 2, 5)
        n = _size(gen, 2, 5, (m,))
        k = _size(gen, 6, 8)
    elif kind == "inner_one":
        m = _size(gen, 2, 8)
        n = _size(gen, 2, 8, (m,))
        k = 1
    elif kind == "tall":  # m in 6..8, k in 2..4, n in 2..8 (≠ m, k)
        m = _size(gen, 6, 8)
        k = _size(gen, 2, 4)
        n = _size(gen, 2, 8, (m, k))
    else:  # one_row: m = 1, k in 3..8, n in 2..8 (≠ k)
        m = 1
        k = _size(gen, 3, 8)
        n = _size(gen, 2, 8, (k,))
    return Case(kind, m, k, n, dtype, seed)


# ----------------------------------------------------------------------------- exact reference


def _fractions(t: torch.Tensor) -> list[list[Fraction]]:
    return [[Fraction(v) for v in row] for row in t.double().tolist()]


def exact_product(a: torch.Tensor, b: torch.Tensor) -> tuple[list, list]:
    """(E, M): E = AB and M = |A||B|, both exact (lists of lists of Fraction, (m, n))."""
    fa, fb = _fractions(a), _fractions(b)
    m, k, n = len(fa), len(fb), len(fb[0])
    e = [[sum((fa[i][p] * fb[p][j] for p in range(k)), Fraction(0)) for j in range(n)]
         for i in range(m)]  # fmt: skip
    mag = [[sum((abs(fa[i][p] * fb[p][j]) for p in range(k)), Fraction(0)) for j in range(n)]
           for i in range(m)]  # fmt: skip
    return e, mag


def worst_ratio(c: torch.Tensor, e: list, mag: list, k: int, u: Fraction) -> float:
    """max_ij |C_ij − E_ij| / (k u (|A||B|)_ij), computed exactly, as a float (inf for nan)."""
    worst = Fraction(0)
    for row_c, row_e, row_m in zip(c.double().tolist(), e, mag, strict=True):
        for cij, eij, mij in zip(row_c, row_e, row_m, strict=True):
            if not math.isfinite(cij):
                return math.inf
            worst = max(worst, abs(Fraction(cij) - eij) / (k * u * mij))
    return float(worst)


# ----------------------------------------------------------------------------- one case


def _shape_message(shape: tuple[int, ...], case: Case) -> str:
    m, k, n = case.m, case.k, case.n
    if shape == (n, m):
        return (
            "the result has shape (n, m), the transpose of (m, n): C[i, j] takes its row i from "
            "a and its column j from b, so a's rows come first (with einsum: 'ik,kj->ij', not "
            "'...->ji' or 'ij,jk->ki')."
        )
    if shape == (m, k, n):
        return (
            "the result has shape (m, k, n): these are all the products a[i, p] * b[p, j]; sum "
            "them over the inner axis (dim 1, the one of size k)."
        )
    if shape in ((k, n), (m, k), (m, 1, n), (1, k, n)) and k > 1:
        return (
            "the result is summed over the wrong axis: a[:, :, None] * b[None, :, :] has shape "
            "(m, k, n) and the sum runs over p, which is dim 1 (size k), leaving (m, n)."
        )
    if shape in ((m, m), (k, k), (n, n), (m, k), (k, n)):
        return (
            "the result does not have shape (m, n): check the sizes you allocate and loop over "
            "(m = a.shape[0] rows, n = b.shape[1] columns, k = a.shape[1] = b.shape[0] inner)."
        )
    return "the result does not have shape (m, n) (m rows of a, n columns of b)."


def _value_message(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor, case: Case) -> str | None:
    """The likely mistake behind wrong values, or None."""
    a64, b64 = a.double(), b.double()
    want = a64 @ b64  # (m, n), float64: enough to recognise a mistake
    scale = float((a64.abs() @ b64.abs()).max())
    got = c.double()

    def near(candidate: torch.Tensor) -> bool:
        return candidate.shape == got.shape and float((got - candidate).abs().max()) <= 1e-3 * scale

    k = case.k
    for bound, name in ((case.m, "m = a.shape[0]"), (case.n, "n = b.shape[1]")):
        if 0 < bound < k and near(a64[:, :bound] @ b64[:bound, :]):
            return (
                f"only the first terms of each sum are there: the loop over the inner index p "
                f"stops at {name} instead of k = a.shape[1]."
            )
    if k > 1 and near(a64[:, k - 1 : k] @ b64[k - 1 : k, :]):
        return (
            "each entry holds only the last product a[i, k-1] * b[k-1, j]: the loop overwrites "
            "c[i, j] = ... instead of accumulating c[i, j] += ... ."
        )
    if k > 1 and near(a64[:, :1] @ b64[:1, :]):
        return "each entry holds only the first product: accumulate every p (c[i, j] += ...)."
    if near(torch.zeros_like(want)):
        return "the result is all zeros: nothing was accumulated into c."
    if near(a64.sum(1, keepdim=True) * b64.sum(0, keepdim=True)):
        return (
            "the result is (sum of row i of a) × (sum of column j of b): multiply a[i, p] by "
            "b[p, j] term by term, then sum over p."
        )
    if near(want.abs()) or near(-want):
        return "the signs of some entries are wrong."
    return None


def _run(student: Student, function: str, case: Case) -> None:
    where = f"On {case.describe()}"
    a, b = case.inputs()
    try:
        got, args_after = student.call(function, a, b, timeout=CALL_TIMEOUT, return_args=True)
    except StudentError as error:
        text = str(error)
        if "out of bounds" in text or "IndexError" in text:
            text += (
                " Hint: loop i over range(m) (m = a.shape[0]), j over range(n) (n = b.shape[1]) "
                "and p over range(k) (k = a.shape[1]); index a[i, p] and b[p, j], and write "
                "into c[i, j] of an (m, n) result."
            )
        elif "must match the size" in text or "size of tensor" in text:
            text += (
                " Hint: give a a trailing axis and b a leading one, a[:, :, None] * b[None, :, :]"
                " (shape (m, k, n)), or a[i, :, None] * b for row i."
            )
        elif "can't be cast to the desired output type" in text:
            text += (
                " Hint: c is an integer tensor, so the float products cannot be added into it;"
                " create it with the inputs' dtype, torch.zeros(m, n, dtype=a.dtype)."
            )
        elif "einsum" in text:
            text += " Hint: 'ik,kj->ij': the repeated index k is summed over."
        raise StudentError(f"{where}: {text}") from None
    changed = [
        name
        for name, before, after in zip("ab", (a, b), args_after, strict=True)
        if not (
            isinstance(after, torch.Tensor)
            and after.shape == before.shape
            and torch.equal(after, before)
        )  # fmt: skip
    ]
    if changed:
        raise GradingFailure(
            f"{where}, {function} changed its input {' and '.join(changed)}: an in-place "
            "operation (a *= ..., a.mul_(...), a[i] = ...) wrote into it. Leave the inputs "
            "unchanged: compute into a new tensor."
        )
    if not isinstance(got, torch.Tensor):
        raise GradingFailure(
            f"{where}, {function} returned a {type(got).__name__}; return an (m, n) tensor."
        )
    shape = tuple(got.shape)
    if shape != (case.m, case.n):
        raise GradingFailure(f"{where}, {_shape_message(shape, case)}")
    if not got.is_floating_point():
        raise GradingFailure(
            f"{where}, the result is an integer tensor ({str(got.dtype).removeprefix('torch.')})"
            ": the products are truncated. Create c with the inputs' dtype, e.g. "
            "torch.zeros(m, n, dtype=a.dtype)."
        )
    if got.dtype != case.dtype:
        mine = str(got.dtype).removeprefix("torch.")
        theirs = str(case.dtype).removeprefix("torch.")
        raise GradingFailure(
            f"{where}, the result is {mine} but the inputs are {theirs}: torch.zeros(m, n) is "
            "float32 unless you ask; create c with dtype=a.dtype so that no precision is lost."
        )
    e, mag = exact_product(a, b)
    ratio = worst_ratio(got, e, mag, case.k, UNIT_ROUNDOFF[case.dtype])
    if ratio <= BOUND_FACTOR:
        return
    if math.isinf(ratio):
        raise GradingFailure(f"{where}, the result contains nan or inf.")
    hint = _value_message(got, a, b, case)
    if hint is None:
        hint = (
            f"some entries are outside the rounding bound: max |C − AB| / (k·u·|A||B|) is "
            f"{ratio:.2g}, grading allows {float(BOUND_FACTOR):g}. Check the indices: "
            "C[i, j] = Σ_p a[i, p] · b[p, j]."
        )
    raise GradingFailure(f"{where}, {hint}")


# ----------------------------------------------------------------------------- parts

PARTS: dict[str, tuple[str, torch.dtype, tuple[str, ...]]] = {
    "matmul_loops_float64": ("matmul_loops", torch.float64, ("inner_long", "inner_one", "tall")),
    "matmul_loops_float32": ("matmul_loops", torch.float32, ("inner_long", "one_row")),
    "matmul_broadcast_float64": (
        "matmul_broadcast",
        torch.float64,
        ("inner_long", "inner_one", "tall"),
    ),
    "matmul_broadcast_float32": ("matmul_broadcast", torch.float32, ("inner_long", "one_row")),
    "matmul_einsum_float64": ("matmul_einsum", torch.float64, ("inner_long", "inner_one", "tall")),
    "matmul_einsum_float32": ("matmul_einsum", torch.float32, ("inner_long", "one_row")),
}
POINTS = {
    "matmul_loops_float64": 2,
    "matmul_loops_float32": 1,
    "matmul_broadcast_float64": 2,
    "matmul_broadcast_float32": 1,
    "matmul_einsum_float64": 2,
    "matmul_einsum_float32": 1,
}
DESCRIPTIONS = {
    gid: f"{fn} in {str(dtype).removeprefix('torch.')}: {len(kinds)} products within the"
    " rounding bound k·u·|A||B|"
    for gid, (fn, dtype, kinds) in PARTS.items()
}


def cases_for(seed: int, grade_id: str) -> list[Case]:
    """The hidden cases of one part for the submission's ``seed``."""
    _, dtype, kinds = PARTS[grade_id]
    return [
        make_case(kind, dtype, derive_seed(seed, f"{grade_id}/{i}")) for i, kind in enumerate(kinds)
    ]


def _runner(grade_id: str):
    function = PARTS[grade_id][0]
    return lambda student, case: _run(student, function, case)


CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, _runner)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the first entries of every hidden a and b and of their product, to 6 decimals. (The shapes
    are not secret: each kind's ranges are stated in the Rules cell, and small tuples such as
    (2, 3) also occur in the notebook's public tests.)"""
    out: list[str] = []
    for grade_id in PARTS:
        for case in cases_for(seed, grade_id):
            a, b = case.inputs()
            c = a.double() @ b.double()
            for t in (a, b, c):
                out += [f"{v:.6f}" for v in t.double().reshape(-1).tolist()[:3]]
    return list(dict.fromkeys(out))
