"""Grader for problem set 1: the power method.

Student API: ``power_method(A, k)`` with ``A`` a symmetric positive semi-definite d×d tensor
(float32 or float64) returns the largest eigenvalue λ₁ as a 0-dim tensor (a Python float or a
one-element tensor is accepted too). It must not call routines that compute eigenvalues or
singular values (family "spectral"), nor the course's reference code ("reference").

Why the tests are exact. Every test matrix is built as A = Q diag(λ) Qᵀ with Q orthogonal, so the
spectrum is known. Write the start vector as v₀ = Σᵢ cᵢ qᵢ. After k steps v_k ∝ Aᵏv₀ = Σᵢ cᵢ λᵢᵏ qᵢ,
and with ρ = λ₂/λ₁ and tan²θ₀ = Σ_{i≥2} cᵢ²/c₁² (the start vector's angle to q₁):

    λ₁ − v_kᵀAv_k  =  Σ_{i≥2} cᵢ² λᵢ^{2k} (λ₁ − λᵢ) / Σᵢ cᵢ² λᵢ^{2k}  ≤  λ₁ tan²θ₀ ρ^{2k},

and ‖Av_k‖ ≥ v_kᵀAv_k (Cauchy–Schwarz, ‖v_k‖ = 1) with ‖Av_k‖ ≤ λ₁, so both estimates the
notebook teaches have relative error at most tan²θ₀ ρ^{2k} (with k − 1 in place of k if the student
returns ‖Av‖ of the last step). Each test picks ρ and k with ρ^{2(k−1)} ≤ 1e-30, so any start
vector with |cos θ₀| ≥ 1e-6 converges far below the tolerance. The student's start vector is
fixed (the sandbox seeds torch with 0) and Q is uniformly random (Haar, from the submission's
seed), so q₁ is a uniform direction independent of v₀: |cos θ₀| < 1e-6 has probability about
1e-6·√(2d/π) ≤ 3e-6 per matrix. What is left is rounding:

- float64: unit roundoff u = 2⁻⁵³ ≈ 1.1e-16; forming A v and vᵀ(Av) costs ≤ d·u·λ₁ and the
  converged iterate carries an O(√d·u) error that enters vᵀAv only squared. rtol = 1e-10 leaves
  a margin of ~10⁴ for d ≤ 8.
- float32: u = 2⁻²⁴ ≈ 6e-8, so the same reasoning gives ~d·u ≈ 5e-7; rtol = 1e-5. The expected
  value is the exact top eigenvalue of the float32 matrix actually handed out (computed in float64
  here, in the trusted process).

Hidden inputs per submission. Each part has two cases (matrices); each case takes its own
generator seed from the submission's seed (``checks.derive_seed``): a random orthogonal Q, a
random permutation for the diagonal case, and a scale c multiplying the whole spectrum. Scaling
keeps every ρ, so the bound above holds for every seed; the ranges of c keep the traps:

- the "small gap" test (ρ = 0.9, k = 400: 0.9⁷⁹⁸ ≈ 5e-37) only converges if all k iterations
  run; λ₁ = 2c ≤ 2.3 keeps λ₁⁴⁰⁰ ≤ 1e145, so it tests the iteration count only (a student who
  normalises once at the end loses the float32 and tiny-scale parts, not this one);
- the "tiny scale" test (λ₁ = 0.02c ≤ 0.06, k = 300) underflows float64 (0.06³⁰⁰ ≈ 1e-367 <
  4.9e-324) unless v is normalised at every step;
- the float32 test (λ₁ = 7.5c ≥ 6, k = 60) overflows float32 (6⁶⁰ ≈ 5e46 > 3.4e38) for the same
  reason;
- λ₁ ∈ [1.5, 20] elsewhere (λ₁ᵏ ≤ 1e78), and never within 25 % of 1, so "returned ‖v‖ = 1",
  "returned λ₁²" and "returned √λ₁" stay distinguishable from the right answer.

The tolerances are the public ones of ``fromscratch.rules`` (stated in the notebook's Rules cell).
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
from fromscratch.rules import PS1 as RULES

RTOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
SHORTCUT_HINTS = {
    "spectral": "find λ₁ with the power method only (matrix–vector products and vector norms)",
    "reference": "write the power method yourself",
}

CALL_TIMEOUT = 20.0  # seconds per call; the loops here take milliseconds


@dataclass(frozen=True)
class Case:
    """One hidden test: a matrix with a known spectrum and an iteration count.

    ``eigenvalues`` is the spectrum before scaling; the matrix handed out has the spectrum
    ``c · eigenvalues`` with ``c`` drawn log-uniformly from ``scale`` (seeded by ``seed``).
    """

    name: str
    d: int
    eigenvalues: tuple[float, ...]
    dtype: torch.dtype
    k: int
    seed: int
    scale: tuple[float, float] = (1.0, 1.0)

    @property
    def rtol(self) -> float:
        return RTOL[self.dtype]

    def matrix(self) -> torch.Tensor:
        """A = Q diag(c·λ) Qᵀ, Q orthogonal from a seeded QR, built in float64, then cast."""
        gen = torch.Generator().manual_seed(self.seed)
        lo, hi = self.scale
        u = float(torch.rand((), generator=gen, dtype=torch.float64))
        c = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        lam = c * torch.tensor(self.eigenvalues, dtype=torch.float64)  # (d,)
        if self.name == "diagonal":
            lam = lam[torch.randperm(self.d, generator=gen)]  # the top one anywhere
            return torch.diag(lam).to(self.dtype)  # (d, d)
        q, r = torch.linalg.qr(torch.randn(self.d, self.d, generator=gen, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r))  # (d, d) * (d,) -> (d, d): a uniformly random Q
        a = q @ torch.diag(lam) @ q.T  # (d, d)
        return ((a + a.T) / 2).to(self.dtype)  # (d, d), exactly symmetric

    def describe(self) -> str:
        kind = "a diagonal" if self.name == "diagonal" else "a"
        dtype = str(self.dtype).removeprefix("torch.")
        return f"{kind} {self.d}×{self.d} {dtype} matrix with a known spectrum, k = {self.k}"


def _spectrum(a: torch.Tensor) -> torch.Tensor:
    """Exact eigenvalues (ascending) of the matrix actually handed out, in float64."""
    return torch.linalg.eigvalsh(a.double())


def _as_number(result: object, d: int, where: str) -> float:
    """The student's return value as a float, or a GradingFailure naming the mistake."""
    if result is None:
        raise GradingFailure(f"{where}: power_method returned None; did you forget `return`?")
    if isinstance(result, bool):
        raise GradingFailure(f"{where}: power_method returned a bool; return the eigenvalue.")
    if isinstance(result, (int, float)):
        return float(result)
    if isinstance(result, torch.Tensor):
        shape = tuple(result.shape)
        if result.numel() != 1:
            if shape == (d,):
                raise GradingFailure(
                    f"{where}: power_method returned a vector of shape {shape}: that looks like "
                    "the eigenvector v (or Av). Return the eigenvalue, the number vᵀAv."
                )
            if shape == (d, d):
                raise GradingFailure(
                    f"{where}: power_method returned a {d}×{d} matrix. The start vector lies "
                    "in R^d (shape (d,)), not R^(d×d); return the number vᵀAv."
                )
            raise GradingFailure(
                f"{where}: power_method returned a tensor of shape {shape}; expected a single "
                "number (a 0-dim tensor)."
            )
        if not (result.is_floating_point() or result.is_complex()):
            raise GradingFailure(
                f"{where}: power_method returned an integer tensor ({result.dtype}); "
                "the eigenvalue is a float."
            )
        value = result.reshape(()).item()
        if isinstance(value, complex):
            if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
                raise GradingFailure(f"{where}: power_method returned a complex number.")
            value = value.real
        return float(value)
    name = type(result).__name__
    raise GradingFailure(
        f"{where}: power_method returned a {name}; expected a 0-dim tensor or a float."
    )


def _diagnose(value: float, eigenvalues: torch.Tensor, rtol: float) -> str | None:
    """None if ``value`` is λ₁ within ``rtol``, else the likely mistake in the student's terms."""
    lam = eigenvalues.tolist()
    top = lam[-1]

    def near(x: float, target: float, tol: float = 1e-4) -> bool:
        # relative to the target, but never finer than 1e-8 λ₁ (zero eigenvalues are ≈ 1e-18)
        return abs(x - target) <= tol * max(abs(target), 1e-8 * abs(top))

    if math.isnan(value) or math.isinf(value):
        return (
            f"power_method returned {value}: the iterate overflowed or underflowed. Normalise v at "
            "every iteration (v ← Av/‖Av‖), not once at the end, and divide by ‖Av‖, not ‖v‖."
        )
    if near(value, top, rtol):
        return None
    if value == 0.0:
        return (
            "returned 0.0: the iterate v became zero (it underflowed, or the start vector was "
            "zero). Start from a random v and normalise it at every iteration (v ← Av/‖Av‖)."
        )
    if near(value, 1.0, 1e-6):
        return "returned 1.0: that is ‖v‖ of a normalised vector; the eigenvalue is vᵀAv (or ‖Av‖)."
    if near(value, top**2):
        return (
            "returned about λ₁²: ‖Av‖² (or vᵀA²v) is the square of the eigenvalue; return "
            "vᵀAv or ‖Av‖ itself."
        )
    if value > 0 and near(value, math.sqrt(top)):
        return "returned about √λ₁: do not take a square root of vᵀAv."
    if near(value, sum(lam)):
        return "returned the trace of A (the sum of all eigenvalues), not the largest eigenvalue."
    if near(value, lam[0]) and not near(lam[0], top):
        return "returned the smallest eigenvalue of A; the power method finds the largest one."
    for other in lam[:-1]:
        if near(value, other) and other > 0:
            return (
                "returned another eigenvalue of A, not the largest: check that you iterate "
                "v ← Av/‖Av‖ from a random start vector."
            )
    rel = (value - top) / top
    if rel > 0:
        return (
            f"your estimate is {_percent(rel)} larger than the largest eigenvalue, which vᵀAv "
            "with ‖v‖ = 1 can never exceed: normalise v with the Euclidean norm, and use vᵀAv "
            "(or ‖Av‖) with that unit vector."
        )
    if rel > -0.5:
        return (
            f"your estimate is {_percent(-rel)} below the largest eigenvalue: the iteration has "
            "not converged. Run all k iterations (each test passes a k large enough for its "
            "eigenvalue gap)."
        )
    return f"your estimate is off by {_percent(abs(rel))}; expected the largest eigenvalue of A."


def _percent(fraction: float) -> str:
    """0.0123 -> '1.2%', 3e-7 -> '3e-05%': two significant digits, no exponent above 1e-3 %."""
    pct = 100 * fraction
    return f"{pct:.2g}%" if pct < 1e-3 else f"{pct:.3g}%" if pct < 100 else f"{pct:.0f}%"


def _hint_for_error(error: StudentError) -> str:
    text = str(error)
    if "dtype" in text or "expected scalar type" in text:
        text += (
            " Hint: create the start vector with dtype=A.dtype (both float32 and float64 occur)."
        )
    return text


def _run_case(student: Student, case: Case) -> None:
    a = case.matrix()
    where = f"On {case.describe()}"
    try:
        result = student.call("power_method", a, case.k, timeout=CALL_TIMEOUT)
    except StudentError as error:
        raise StudentError(f"{where}: {_hint_for_error(error)}") from None
    value = _as_number(result, case.d, where)
    problem = _diagnose(value, _spectrum(a), case.rtol)
    if problem:
        raise GradingFailure(
            f"{where}, power_method {problem}"
            if problem.startswith("returned")
            else f"{where}: {problem}"
        )


# Per part: (name, d, spectrum before scaling, dtype, k, range of the scale c). See the docstring
# for why each range keeps the part's guarantee and its trap.
PARTS: dict[str, tuple[str, int, tuple[float, ...], torch.dtype, int, tuple[float, float]]] = {
    "power_method_diagonal": ("diagonal", 3, (1.5, 2.0, 5.0), torch.float64, 50, (0.6, 3.0)),
    "power_method_float64": (
        "float64",
        6,
        (0.5, 1.0, 2.0, 3.0, 4.0, 10.0),
        torch.float64,
        60,
        (0.5, 2.0),
    ),
    "power_method_float32": (
        "float32",
        5,
        (0.25, 1.0, 2.0, 3.0, 7.5),
        torch.float32,
        60,
        (0.8, 2.0),
    ),
    "power_method_small_gap": (
        "small_gap",
        8,
        (0.1, 0.3, 0.5, 0.8, 1.0, 1.2, 1.8, 2.0),
        torch.float64,
        400,
        (0.75, 1.15),
    ),
    "power_method_tiny_scale": (
        "tiny_scale",
        7,
        (0.0, 0.0, 0.0, 0.0, 0.001, 0.008, 0.02),
        torch.float64,
        300,
        (0.5, 3.0),
    ),
}
CASES_PER_PART = 2


def cases_for(seed: int, grade_id: str) -> list[Case]:
    """The hidden cases of one part for the submission's ``seed``."""
    name, d, lam, dtype, k, scale = PARTS[grade_id]
    return [
        Case(name, d, lam, dtype, k, derive_seed(seed, f"{grade_id}/{i}"), scale)
        for i in range(CASES_PER_PART)
    ]


DESCRIPTIONS = {
    "power_method_diagonal": "power_method on diagonal matrices",
    "power_method_float64": "power_method on float64 matrices with a known spectrum",
    "power_method_float32": "power_method on float32 matrices (normalising at every step avoids"
    " overflow)",
    "power_method_small_gap": "power_method with a small eigenvalue gap (λ₂/λ₁ = 0.9): all k"
    " iterations are needed",
    "power_method_tiny_scale": "power_method on singular PSD matrices with tiny eigenvalues (no"
    " underflow)",
}
POINTS = {
    "power_method_diagonal": 1,
    "power_method_float64": 2,
    "power_method_float32": 2,
    "power_method_small_gap": 2,
    "power_method_tiny_scale": 1,
}

CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, lambda _: _run_case)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    its hidden matrices' top eigenvalues and first entries, as a student would see them printed."""
    out = []
    for grade_id in PARTS:
        for case in cases_for(seed, grade_id):
            a = case.matrix()
            top = _spectrum(a)[-1].item()
            out += [repr(top), f"{top:.6f}"]
            out += [f"{x:.6f}" for x in a.reshape(-1).tolist()[:4] if x != 0.0]
    return out
