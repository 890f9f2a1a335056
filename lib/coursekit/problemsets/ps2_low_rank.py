"""Graded parts of ``ps2_low_rank``: ``best_rank_approximation(A, r)`` (Eckart–Young).

The student returns the rank-≤r matrix nearest ``A`` (m×n) in the Frobenius norm, with the shape
and dtype of ``A``. Every test matrix is built with KNOWN singular values,
``A = U diag(σ) Vᵀ`` with ``U``, ``V`` orthonormal columns (QR of a seeded Gaussian matrix), the
σ distinct and with a gap ``σ_r − σ_{r+1} ≥ 1`` at every tested ``r``. By Eckart–Young the
optimum is then UNIQUE, equal to ``A_r = U_r diag(σ_1..σ_r) V_rᵀ``, and its error is
``‖A − A_r‖_F = sqrt(σ_{r+1}² + … + σ_k²)``, ``k = min(m, n)``. So a check compares the result with
``A_r`` directly and the messages quote the optimal error.

Legitimate routes, all accepted: the truncated SVD (``torch.linalg.svd`` with or without
``full_matrices``, ``torch.svd`` which returns V rather than Vᴴ), or a projection
``A V_r V_rᵀ`` / ``U_r U_rᵀ A`` with the top eigenvectors of ``AᵀA`` / ``AAᵀ`` from
``torch.linalg.eigh``, computed in the input dtype or in float64 and cast back.

Tolerances (relative to ``‖A‖_F``). The SVD and ``eigh`` are backward stable: they return the exact
factors of ``A + E`` with ``‖E‖ ≤ c·u·‖A‖``, ``c`` a small multiple of the dimension (≤ 8 here) and
``u`` the unit roundoff (2⁻²⁴ ≈ 6e-8 in float32, 2⁻⁵³ ≈ 1.1e-16 in float64). Truncating at ``r``
amplifies ``E`` by at most about ``σ_1 / (σ_r − σ_{r+1})`` (Wedin's theorem; for the Gram route
``σ_1² / (σ_r² − σ_{r+1}²)``), which is ≤ 10 for every spectrum below. The error bound is thus
≲ 10·8·u, i.e. 5e-6 in float32 and 1e-14 in float64; measured worst cases over all routes are
5e-7 and 5e-15. We allow ``1e-4`` and ``1e-10``: a wide margin over rounding, while every
mistake we know (an off-by-one rank, Vᴴ used as V, a lost Σ, ...) moves the result by at least
``σ_{r+1} / ‖A‖_F ≥ 0.05`` relative.

The numerical rank of a result ``B`` counts its singular values above ``1e-4·σ_1(A)`` (float32) or
``1e-8·σ_1(A)`` (float64); rounding leaves spurious ones near ``u·‖A‖`` and the smallest true
singular value of every test matrix is ``≥ 0.1·σ_1``, so the count is unambiguous.

Hidden inputs per submission. Shapes, ranks and dtypes are fixed (the messages name them); each
case draws its own ``U``, ``V`` (QR of a Gaussian matrix) and a scale ``c ∈ [0.5, 2]`` multiplying
every σ from ``derive_seed(student.seed, label)``. Every statement above is invariant under
scaling: the tolerances and the rank threshold are relative to ``‖A‖_F`` and ``σ_1``, and the
gap conditions are ratios (``(σ_r − σ_{r+1}) / σ_1 ≥ 0.1``, ``σ_{r+1} / ‖A‖_F ≥ 0.05``). All
numbers are the public ones of ``fromscratch.rules`` (stated in the notebook's Rules cell); every
part gives partial credit per case.

Taught in: the problem sets (Exercises part), ps2_low_rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    StudentError,
    cases_check,
    derive_seed,
    seeded_cases,
)
from fromscratch.rules import PS2 as RULES

# FORBIDDEN (from RULES): the SVD is the intended route here, so no linear-algebra routine is
# forbidden; only the course's own packages would be a shortcut.
SHORTCUT_HINTS = {
    "reference": "write the truncated SVD yourself with torch.linalg.svd (the course's own"
    " packages are not part of the exercise)",
}

NAME = "best_rank_approximation"
CLOSE_TOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
RANK_TOL = {
    torch.float32: RULES.tolerances["rank_float32"],
    torch.float64: RULES.tolerances["rank_float64"],
}
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


# ---------------------------------------------------------------------------------------------
# Test inputs: matrices with known singular values.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hidden test input: an m×n matrix with singular values ``sigma``, and the rank ``r``."""

    m: int
    n: int
    sigma: tuple[float, ...]
    r: int
    dtype: torch.dtype
    seed: int
    scale: float = 1.0

    @property
    def kind(self) -> str:
        return "square" if self.m == self.n else ("tall" if self.m > self.n else "wide")

    def describe(self) -> str:
        """E.g. "a wide 4×7 float32 matrix A and r = 3" (shapes only, never values)."""
        return (
            f"a {self.kind} {self.m}×{self.n} {DTYPE_NAMES[self.dtype]} matrix A and r = {self.r}"
        )


def known_matrix(m: int, n: int, sigma: tuple[float, ...], seed: int) -> torch.Tensor:
    """``U diag(σ) Vᵀ`` in float64, with ``U`` (m, k) and ``V`` (n, k) orthonormal columns.

    ``k = min(m, n) = len(sigma)``; the σ must be positive, distinct and in decreasing order.
    """
    k = min(m, n)
    if len(sigma) != k or any(a <= b for a, b in zip(sigma, sigma[1:], strict=False)):
        raise ValueError("sigma must hold min(m, n) strictly decreasing values.")
    g = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(m, k, generator=g, dtype=torch.float64))  # (m, k)
    v, _ = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))  # (n, k)
    s = torch.tensor(sigma, dtype=torch.float64)  # (k,)
    return (u * s) @ v.T  # (m, k) * (k,) -> (m, k); (m, k) @ (k, n) -> (m, n)


def case_matrix(case: Case) -> torch.Tensor:
    """The input the student receives, in the case's dtype."""
    sigma = tuple(case.scale * s for s in case.sigma)
    return known_matrix(case.m, case.n, sigma, case.seed).to(case.dtype)


def seeded(case: Case, seed: int, label: str) -> Case:
    """``case`` with singular vectors and scale drawn for the submission's ``seed``."""
    case_seed = derive_seed(seed, label)
    u = float(torch.rand((), generator=torch.Generator().manual_seed(case_seed)))
    return Case(case.m, case.n, case.sigma, case.r, case.dtype, case_seed, 0.5 * 4.0**u)


def cases_for(seed: int, kind: str) -> tuple[Case, ...]:
    """The hidden cases of one family ("square", "rect", "edge") for the submission's seed."""
    base = {"square": SQUARE_CASES, "rect": RECT_CASES, "edge": EDGE_CASES}[kind]
    return tuple(seeded(c, seed, f"{kind}/{i}") for i, c in enumerate(base))


SQUARE = (10.0, 7.0, 5.0, 3.0, 2.0, 1.5)
TALL = (6.0, 4.5, 3.0, 2.0, 1.2)
WIDE = (5.0, 3.5, 2.5, 1.0)
SQUARE_CASES = tuple(
    Case(6, 6, SQUARE, r, dt, seed)
    for seed, (r, dt) in enumerate([(1, torch.float64), (3, torch.float64), (3, torch.float32)])
)
RECT_CASES = (
    Case(8, 5, TALL, 2, torch.float64, 10),
    Case(8, 5, TALL, 2, torch.float32, 11),
    Case(4, 7, WIDE, 3, torch.float64, 12),
    Case(4, 7, WIDE, 1, torch.float32, 13),
)
EDGE_CASES = (
    Case(5, 3, (4.0, 3.0, 2.0), 0, torch.float64, 20),
    Case(3, 5, (4.0, 3.0, 2.0), 0, torch.float32, 21),
    Case(3, 5, (4.0, 3.0, 2.0), 3, torch.float64, 22),
    Case(6, 4, (4.0, 3.0, 2.0, 1.0), 6, torch.float32, 23),
    Case(4, 4, (4.0, 3.0, 2.0, 1.0), 4, torch.float32, 24),
)


# ---------------------------------------------------------------------------------------------
# Reference, computed in the trusted process in float64.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """float64 SVD of the exact input ``A`` (after any cast to float32) and its truncations."""

    a: torch.Tensor  # (m, n) float64
    u: torch.Tensor  # (m, k)
    s: torch.Tensor  # (k,)
    vh: torch.Tensor  # (k, n)

    @staticmethod
    def of(a: torch.Tensor) -> Reference:
        a64 = a.detach().to(torch.float64)
        u, s, vh = torch.linalg.svd(a64, full_matrices=False)
        return Reference(a64, u, s, vh)

    def truncation(self, r: int) -> torch.Tensor:
        """``A_r = U[:, :r] diag(S[:r]) Vh[:r, :]``, the unique optimum when σ_r > σ_{r+1}."""
        return (self.u[:, :r] * self.s[:r]) @ self.vh[:r, :]  # (m, r) @ (r, n) -> (m, n)

    def optimal_error(self, r: int) -> float:
        """``sqrt(σ_{r+1}² + … + σ_k²)`` (Eckart–Young)."""
        return float(torch.sqrt((self.s[r:] ** 2).sum()))


def _rel(x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor) -> float:
    return float(torch.linalg.norm(x - y) / torch.linalg.norm(scale))


def numerical_rank(b64: torch.Tensor, ref: Reference, dtype: torch.dtype) -> int:
    sv = torch.linalg.svdvals(b64)
    return int((sv > RANK_TOL[dtype] * ref.s[0]).sum())


# ---------------------------------------------------------------------------------------------
# Plain checks on a result (no student code involved): each returns None or a message.
# ---------------------------------------------------------------------------------------------


def _is_float_tensor(result: object) -> bool:
    return isinstance(result, torch.Tensor) and result.dtype in (torch.float32, torch.float64)


def interface_problem(case: Case, a: torch.Tensor, result: object) -> str | None:
    """Wrong type, shape or dtype, or non-finite values; ``None`` if the result is usable."""
    where = f"For {case.describe()}"
    if not isinstance(result, torch.Tensor):
        return (
            f"{where}, best_rank_approximation returned {type(result).__name__}; expected a tensor."
        )
    shape = (case.m, case.n)
    if tuple(result.shape) != shape:
        got = tuple(result.shape)
        hint = ""
        if got in ((case.m, case.r), (case.r, case.n), (case.r, case.r), (case.r,)):
            hint = " That is the shape of a factor: return the product U_r diag(σ) V_rᵀ."
        elif case.kind == "wide" and got == (case.m, case.m):
            hint = (
                " That is what Vh[:, :r].T gives on a wide matrix: torch.linalg.svd returns"
                " Vh = Vᵀ, whose first r ROWS Vh[:r, :] are the right singular vectors."
            )
        elif got == (case.n, case.n) or got == (case.n, case.m):
            hint = (
                " Check which factor is sliced by columns: U[:, :r] (left) and Vh[:r, :] (right)."
            )
        return f"{where}, the result has shape {got}; expected {shape}, the shape of A.{hint}"
    if not torch.isfinite(result).all():
        return f"{where}, the result contains nan or inf."
    return None


def dtype_problem(case: Case, result: torch.Tensor) -> str | None:
    if result.dtype != case.dtype:
        return (
            f"For {case.describe()}, the result is {str(result.dtype).replace('torch.', '')};"
            f" keep the dtype of A (cast back with .to(A.dtype) if you computed in another one)."
        )
    return None


def rank_problem(case: Case, ref: Reference, result: torch.Tensor) -> str | None:
    """The rank must be exactly r: at most r by the problem, and not less since σ_r > 0."""
    b64 = result.detach().to(torch.float64)
    rank = numerical_rank(b64, ref, case.dtype)
    where = f"For {case.describe()}"
    if rank > case.r:
        if _rel(b64, ref.a, ref.a) <= CLOSE_TOL[case.dtype]:
            why = " You returned A itself: keep only the r largest singular values."
        elif _rel(b64, ref.truncation(rank), ref.a) <= CLOSE_TOL[case.dtype]:
            why = (
                f" It is the best rank-{rank} approximation: keep exactly r singular triplets,"
                " U[:, :r], S[:r] and Vh[:r, :]."
            )
        else:
            why = ""
        return f"{where}, the result has rank {rank}, expected at most {case.r}.{why}"
    if rank < case.r:
        return (
            f"{where}, the result has rank {rank}, expected {case.r}: all singular values of A are"
            f" positive, so the best rank-≤{case.r} approximation keeps {case.r} of them."
            + _diagnosis(case, ref, b64, rank)
        )
    return None


def optimality_problem(case: Case, ref: Reference, result: torch.Tensor) -> str | None:
    """``None`` iff the result equals the unique optimum ``A_r`` (dtype is judged elsewhere)."""
    b64 = result.detach().to(torch.float64)
    tol = CLOSE_TOL[case.dtype]
    if _rel(b64, ref.truncation(case.r), ref.a) <= tol:
        return None
    where = f"For {case.describe()}"
    rank = numerical_rank(b64, ref, case.dtype)
    err = float(torch.linalg.norm(ref.a - b64))
    best = ref.optimal_error(case.r)
    numbers = (
        f" ‖A − result‖_F is {100 * (err / best - 1):.3g}% larger than the smallest possible,"
        f" sqrt(σ_{case.r + 1}² + … + σ_{len(ref.s)}²) (Eckart–Young)."
    )
    if rank > case.r:
        msg = rank_problem(case, ref, result)
        return msg if msg is not None else where + numbers
    return where + "," + numbers + _diagnosis(case, ref, b64, rank)


def _diagnosis(case: Case, ref: Reference, b64: torch.Tensor, rank: int) -> str:
    """Name the likely mistake behind a rank-≤r result that is not the optimum."""
    tol = CLOSE_TOL[case.dtype]
    r, k = case.r, len(ref.s)
    if rank == 0:
        return " Your result is the zero matrix."
    if rank < r and _rel(b64, ref.truncation(rank), ref.a) <= tol:
        return (
            f" Your result is the best rank-{rank} approximation: an off-by-one, U[:, :r] keeps"
            f" r columns (0 … r−1)."
        )
    sb = torch.linalg.svdvals(b64)[:rank]  # (rank,)
    scale = ref.s[0]

    def same(values: torch.Tensor) -> bool:
        return values.shape == sb.shape and float((sb - values).abs().max() / scale) <= 10 * tol

    if rank == 1 and r < k and same(ref.s[r : r + 1]):
        return (
            f" Your result is the single term σ_{r + 1} u_{r + 1} v_{r + 1}ᵀ: U[:, r] is one column"
            " (the (r+1)-th); the first r columns are U[:, :r]."
        )
    if rank == r and r < k and same(ref.s[k - r :]):
        return (
            " It keeps the r SMALLEST singular values: torch.linalg.svd sorts them in decreasing"
            " order, so keep the first r (S[:r]), not the last."
        )
    ur, vr = ref.u[:, :r], ref.vh[:r, :].T  # (m, r), (n, r)
    col_ok = _rel(ur @ (ur.T @ b64), b64, b64) <= tol  # columns of B in span(U_r)
    row_ok = _rel((b64 @ vr) @ vr.T, b64, b64) <= tol  # rows of B in span(V_r)
    right_values = same(ref.s[:r])
    if col_ok and not row_ok and right_values:
        return (
            " Its columns and singular values are right but its rows are not, the signature of"
            " using Vh as V: torch.linalg.svd returns Vh = Vᴴ, whose first r ROWS Vh[:r, :] are the"
            " right singular vectors (Vh[:, :r].T is not V[:, :r])."
        )
    if row_ok and not col_ok and right_values:
        return (
            " Its rows and singular values are right but its columns are not: the left singular"
            " vectors are the COLUMNS of U, U[:, :r] (not its rows)."
        )
    if col_ok and row_ok:
        if same(ref.s[:r] ** 2):
            return (
                " It has σ² where σ belongs: the eigenvalues of AᵀA are σ², take their square"
                " roots."
            )
        if same(torch.ones(r, dtype=torch.float64) * 1.0):
            return " It is U_r V_rᵀ without the singular values: use U_r diag(σ_1, …, σ_r) V_rᵀ."
        return " Its row and column spaces are right but its singular values are not σ_1, …, σ_r."
    return ""


def input_problem(case: Case, a_before: torch.Tensor, a_after: object) -> str | None:
    if not isinstance(a_after, torch.Tensor) or not torch.equal(a_before, a_after):
        return (
            f"For {case.describe()}, best_rank_approximation modified A in place; leave the input"
            " untouched (work on A.clone() if you need a scratch copy)."
        )
    return None


# ---------------------------------------------------------------------------------------------
# The graded parts.
# ---------------------------------------------------------------------------------------------


def _call(student, case: Case, *, return_args: bool = False):
    """Call the student's function on the case's matrix; name the case if the call fails."""
    a = case_matrix(case)
    try:
        return a, student.call(NAME, a.clone(), case.r, return_args=return_args, timeout=30.0)
    except StudentError as exc:
        edge = case.r == 0 or case.r >= min(case.m, case.n)
        hint = _edge_hint(case) if edge and " raised " in str(exc) else ""
        raise StudentError(f"For {case.describe()}: {_sentence(str(exc))}{hint}") from None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def shape_dtype_case(student, case: Case) -> None:
    """Same shape and dtype as A; A untouched."""
    a, (result, args_after) = _call(student, case, return_args=True)
    msg = interface_problem(case, a, result)
    msg = msg or dtype_problem(case, result) or input_problem(case, a, args_after[0])
    if msg:
        raise GradingFailure(msg)


def rank_case(student, case: Case) -> None:
    """Rank exactly r (≤ r by the problem, and = r because every σ of the test matrices is > 0)."""
    a, result = _call(student, case)
    msg = interface_problem(case, a, result) or rank_problem(case, Reference.of(a), result)
    if msg:
        raise GradingFailure(msg)


def optimal_case(student, case: Case) -> None:
    """The unique optimum A_r (dtype is judged by the shape/dtype part)."""
    a, result = _call(student, case)
    msg = interface_problem(case, a, result) or optimality_problem(case, Reference.of(a), result)
    if msg:
        raise GradingFailure(msg)


def edge_case(student, case: Case) -> None:
    """r = 0 gives the zero matrix; r ≥ min(m, n) gives A back (up to rounding)."""
    a, result = _call(student, case)
    msg = interface_problem(case, a, result)
    if msg:
        raise GradingFailure(msg)
    ref = Reference.of(a)
    b64 = result.detach().to(torch.float64)
    target = ref.truncation(min(case.r, len(ref.s)))
    if _rel(b64, target, ref.a) > CLOSE_TOL[case.dtype]:
        expected = "the zero matrix" if case.r == 0 else "A itself (nothing to discard)"
        hint = _edge_hint(case)
        if case.r == 0 and _rel(b64, ref.a, ref.a) <= CLOSE_TOL[case.dtype]:
            hint = (
                " You returned A itself. If you keep the last r columns of an eigh result,"
                " note that with r = 0, V[:, -r:] is V[:, -0:] = V[:, 0:], ALL of V: slice"
                " V[:, V.shape[1] - r:] instead, or handle r = 0 first."
            )
        raise GradingFailure(f"For {case.describe()}, the result should be {expected}." + hint)


def _edge_hint(case: Case) -> str:
    if case.r == 0:
        return " With r = 0, U[:, :0] is (m, 0) and Vh[:0, :] is (0, n): their product is zeros."
    k = min(case.m, case.n)
    return (
        f" With r ≥ min(m, n) = {k} every singular value is kept. Slicing does NOT make this"
        f" free with torch.linalg.svd's default full_matrices=True: U is (m, m) and Vh (n, n), so"
        f" U[:, :r] keeps min(r, m) columns and Vh[:r, :] min(r, n) rows while S has only {k}"
        " entries, and (U[:, :r] * S[:r]) @ Vh[:r, :] fails for r > min(m, n) on a non-square A."
        " Use full_matrices=False (U is (m, k), Vh is (k, n)), or slice with min(r, k)."
    )


def _cases(kind: str, run_case):
    return seeded_cases(lambda seed: cases_for(seed, kind), run_case)


def _all_sizes(run_case):
    return seeded_cases(
        lambda seed: (*cases_for(seed, "square"), *cases_for(seed, "rect")), run_case
    )


PARTIAL = RULES.partial_credit_per_case
CHECKS = [
    cases_check(
        "ps2_shape_dtype",
        1,
        "best_rank_approximation keeps the shape and dtype of A and leaves A unchanged",
        _all_sizes(shape_dtype_case),
        partial=PARTIAL,
    ),
    cases_check(
        "ps2_rank",
        2,
        "the result has rank exactly r (square, tall and wide; float32 and float64)",
        _all_sizes(rank_case),
        partial=PARTIAL,
    ),
    cases_check(
        "ps2_optimal_square",
        2,
        "the result is the best rank-r approximation of square matrices with known singular values",
        _cases("square", optimal_case),
        partial=PARTIAL,
    ),
    cases_check(
        "ps2_optimal_rectangular",
        3,
        "the result is the best rank-r approximation of tall and wide matrices",
        _cases("rect", optimal_case),
        partial=PARTIAL,
    ),
    cases_check(
        "ps2_edge_cases",
        2,
        "r = 0 gives the zero matrix and r ≥ min(m, n) gives A back",
        _cases("edge", edge_case),
        partial=PARTIAL,
    ),
]


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the first entries of its hidden matrices, as a student would see them printed."""
    out = []
    for kind in ("square", "rect", "edge"):
        for case in cases_for(seed, kind):
            out += [f"{x:.6f}" for x in case_matrix(case).reshape(-1).tolist()[:3]]
    return out
