"""Public tests of the chapter 3 set (the matrix product three ways), run by ``check(...)``.

One test per graded part, on public matrices of the kinds the hidden tests use (a long inner
dimension, k = 1, more rows than k, a single row), with the grading rule of
``fromscratch.rules.CH03``: shape (m, n), the inputs' dtype, inputs left unchanged, and every
entry within bound_factor · k · u · (|A||B|)_ij of the exact product (computed here in rational
arithmetic, so the check itself does not round).

Taught in: chapter 3, Matmul (its Exercises section).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH03

UNIT_ROUNDOFF = {torch.float32: Fraction(1, 2**24), torch.float64: Fraction(1, 2**53)}


def _matrix(rows: int, cols: int, seed: int, dtype: torch.dtype) -> torch.Tensor:
    """A seeded (rows, cols) matrix with entries ±2^t, t in [-2, 2] (magnitudes in [1/4, 4])."""
    g = torch.Generator().manual_seed(seed)
    t = torch.empty(rows, cols, dtype=torch.float64).uniform_(-2.0, 2.0, generator=g)
    sign = torch.randint(0, 2, (rows, cols), generator=g, dtype=torch.float64) * 2 - 1
    return (sign * torch.exp2(t)).to(dtype)


def worst_ratio(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> float:
    """max_ij |c_ij − (AB)_ij| / (k u (|A||B|)_ij), with AB and |A||B| exact (Fractions)."""
    fa = [[Fraction(v) for v in row] for row in a.double().tolist()]  # (m, k)
    fb = [[Fraction(v) for v in row] for row in b.double().tolist()]  # (k, n)
    k, u = len(fb), UNIT_ROUNDOFF[a.dtype]
    worst = Fraction(0)
    for i, row in enumerate(c.double().tolist()):
        for j, cij in enumerate(row):
            if cij != cij or abs(cij) == float("inf"):
                return float("inf")
            terms = [fa[i][p] * fb[p][j] for p in range(k)]
            exact, mag = sum(terms, Fraction(0)), sum((abs(t) for t in terms), Fraction(0))
            worst = max(worst, abs(Fraction(cij) - exact) / (k * u * mag))
    return float(worst)


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    factor = CH03.tolerances["bound_factor"]

    def product(function: str, m: int, k: int, n: int, dtype: torch.dtype, seed: int) -> None:
        a, b = _matrix(m, k, seed, dtype), _matrix(k, n, seed + 1, dtype)  # (m, k), (k, n)
        kind = str(dtype).removeprefix("torch.")
        what = f"{function} of a ({m}, {k}) and b ({k}, {n}) {kind} matrix"
        c = run.call(function, a, b)
        a_after, b_after = run.last_args
        if not (torch.equal(a_after, a) and torch.equal(b_after, b)):
            raise Fail(f"{what} changed its inputs (an in-place operation): leave a and b as is.")
        if not isinstance(c, torch.Tensor):
            raise Fail(f"{what} returned a {type(c).__name__}; return a tensor.")
        if tuple(c.shape) != (m, n):
            hint = " (transposed: a's rows come first)" if tuple(c.shape) == (n, m) else ""
            raise Fail(f"{what} has shape {tuple(c.shape)}; expected (m, n) = {(m, n)}{hint}.")
        if c.dtype != dtype:
            raise Fail(
                f"{what} is {str(c.dtype).removeprefix('torch.')}; keep the inputs' dtype"
                " (torch.zeros(m, n, dtype=a.dtype))."
            )
        ratio = worst_ratio(c, a, b)
        if not ratio <= factor:
            raise Fail(
                f"{what}: max |C − AB| / (k·u·|A||B|) = {ratio:.2g}; grading allows {factor:g}"
                " (C[i, j] = Σ_p a[i, p] · b[p, j], summed over every p < k)."
            )

    def part(function: str, dtype: torch.dtype) -> Callable[[], None]:
        def test() -> None:
            if dtype == torch.float64:
                product(function, 3, 7, 4, dtype, 10)  # long inner dimension
                product(function, 5, 1, 3, dtype, 20)  # k = 1: an outer product
                product(function, 7, 3, 2, dtype, 30)  # more rows than k
            else:
                product(function, 2, 8, 5, dtype, 40)  # long inner dimension
                product(function, 1, 6, 4, dtype, 50)  # a single row

        return test

    return {
        f"{function}_{str(dtype).removeprefix('torch.')}": part(function, dtype)
        for function in CH03.functions
        for dtype in (torch.float64, torch.float32)
    }
