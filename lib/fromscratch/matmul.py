"""Matrix multiplication, from three Python loops up to one BLAS call, plus how to time it.

Every variant computes the same thing. For ``a`` of shape ``(m, k)`` and ``b`` of shape
``(k, n)`` the product ``c = a @ b`` has shape ``(m, n)`` and entries

    c[i, j] = sum_{p=0}^{k-1} a[i, p] * b[p, j].

The variants differ only in how much of that work runs in the Python interpreter and how
much runs in compiled code, one rung of the ladder at a time:

- ``matmul_loops``: Python loops over i, j and p; torch sees one scalar multiply-add
  per step (m * n * k Python steps).
- ``matmul_rowdot``: Python loops over i and j; torch does each length-k dot product
  (m * n steps).
- ``matmul_broadcast``: Python loops over i; torch does a (k, 1) * (k, n) product and a
  sum over k (m steps).
- ``matmul_broadcast_full``: no Python loop; torch builds an (m, k, n) tensor of all
  products and sums it (1 step, m * k * n memory).
- ``matmul_einsum``: ``torch.einsum("ik,kj->ij", a, b)`` (1 step).
- ``matmul_blas``: ``a @ b``, one call to the BLAS sgemm / dgemm kernel (1 step).
- ``matmul_batched``: ``torch.bmm``, B products of the same shape in one call.

Taught in: chapter 3, Matmul: from Python loops to BLAS.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

# ---------------------------------------------------------------- input checks


def _check_matmul_inputs(a: torch.Tensor, b: torch.Tensor, name: str) -> tuple[int, int, int]:
    """Validate an ``(m, k) @ (k, n)`` pair and return ``(m, k, n)``; raise ValueError otherwise."""
    for label, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"{name} expects torch tensors, but {label} is a {type(x).__name__}.")
        if x.dim() != 2:
            raise ValueError(
                f"{name} multiplies 2-D matrices, but {label} has shape {tuple(x.shape)}; "
                "use matmul_batched for a stack of matrices, or reshape to 2-D first."
            )
    (m, k), (k_b, n) = a.shape, b.shape
    if k != k_b:
        raise ValueError(
            f"{name} needs a.shape[1] == b.shape[0] (the inner dimensions), but got "
            f"a {tuple(a.shape)} and b {tuple(b.shape)}; did you mean to transpose one of them?"
        )
    if a.dtype != b.dtype:
        raise ValueError(
            f"{name} needs a and b to have the same dtype, got {a.dtype} and {b.dtype}; "
            "convert one of them, e.g. b.to(a.dtype)."
        )
    return m, k, n


# ---------------------------------------------------------------- the ladder


def matmul_loops(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Three nested Python loops: one scalar multiply-add per innermost step.

    ``c[i, j] += a[i, p] * b[p, j]`` for every ``i < m``, ``j < n``, ``p < k``, starting
    from ``c = 0`` in the inputs' dtype. Each step indexes two 0-d tensors, multiplies and
    adds them: ``m * n * k`` trips through the interpreter and torch's dispatcher, so the
    cost per floating-point operation is microseconds, not nanoseconds.

    Args:
        a: ``(m, k)`` matrix (any strides).
        b: ``(k, n)`` matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` product, same dtype as the inputs.

    Taught in: chapter 3, Matmul (rung 1).
    """
    m, k, n = _check_matmul_inputs(a, b, "matmul_loops")
    c = torch.zeros(m, n, dtype=a.dtype)  # (m, n)
    for i in range(m):
        for j in range(n):
            for p in range(k):
                c[i, j] += a[i, p] * b[p, j]  # () * () -> (), one multiply and one add
    return c


def matmul_rowdot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Two Python loops over ``(i, j)``; torch computes each dot product of row i and column j.

    "Row-dot" means: ``c[i, j] = (a[i] * b[:, j]).sum()``, the dot product of row ``i`` of
    ``a`` with column ``j`` of ``b``, done by torch as one elementwise product and one sum
    of length ``k``. The innermost loop over ``p`` of :func:`matmul_loops` has moved into
    compiled code; ``m * n`` Python steps remain.

    Args:
        a: ``(m, k)`` matrix.
        b: ``(k, n)`` matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` product.

    Taught in: chapter 3, Matmul (rung 2).
    """
    m, k, n = _check_matmul_inputs(a, b, "matmul_rowdot")
    c = torch.zeros(m, n, dtype=a.dtype)  # (m, n)
    for i in range(m):
        for j in range(n):
            c[i, j] = (a[i] * b[:, j]).sum()  # (k,) * (k,) -> (k,) -> sum -> ()
    return c


def matmul_broadcast(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """One Python loop over rows; broadcasting computes a whole output row at once.

    Row ``i`` of the product is a weighted sum of the rows of ``b``:
    ``c[i, :] = sum_p a[i, p] * b[p, :]``. Making ``a[i]`` a column ``(k, 1)`` and
    multiplying by ``b`` ``(k, n)`` broadcasts it across the ``n`` columns, which gives
    every term ``a[i, p] * b[p, j]`` in a ``(k, n)`` temporary; summing over dim 0 (the
    ``p`` axis) leaves the ``(n,)`` row. ``m`` Python steps remain, each allocating
    ``k * n`` elements.

    Args:
        a: ``(m, k)`` matrix.
        b: ``(k, n)`` matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` product.

    Taught in: chapter 3, Matmul (rung 3).
    """
    m, k, n = _check_matmul_inputs(a, b, "matmul_broadcast")
    c = torch.zeros(m, n, dtype=a.dtype)  # (m, n)
    for i in range(m):
        terms = a[i, :, None] * b  # (k, 1) * (k, n) -> (k, n): terms[p, j] = a[i, p] * b[p, j]
        c[i] = terms.sum(dim=0)  # (k, n) -> (n,)
    return c


def matmul_broadcast_full(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """No Python loop: broadcast to an ``(m, k, n)`` tensor of all products, then sum over k.

    ``a[:, :, None] * b[None, :, :]`` has entry ``[i, p, j] = a[i, p] * b[p, j]``; summing
    over dim 1 (``p``) gives ``c[i, j]``. Memory cost: the temporary holds ``m * k * n``
    elements (4 bytes each in float32), far more than the ``m * n`` of the answer, e.g.
    4 GiB for three 1024 x 1024 float32 matrices. Use it to learn broadcasting, not in
    practice.

    Args:
        a: ``(m, k)`` matrix.
        b: ``(k, n)`` matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` product.

    Taught in: chapter 3, Matmul (rung 4).
    """
    _check_matmul_inputs(a, b, "matmul_broadcast_full")
    terms = a[:, :, None] * b[None, :, :]  # (m, k, 1) * (1, k, n) -> (m, k, n)
    return terms.sum(dim=1)  # (m, k, n) -> (m, n)


def matmul_einsum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Einstein summation: ``torch.einsum("ik,kj->ij", a, b)``.

    The subscript string is the formula ``c[i, j] = sum_k a[i, k] * b[k, j]`` written
    compactly: an index that appears in the inputs but not after ``->`` is summed over.
    torch turns it into a call to its matrix-multiply kernel (it does not loop in Python).

    Args:
        a: ``(m, k)`` matrix.
        b: ``(k, n)`` matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` product.

    Taught in: chapter 3, Matmul (rung 5).
    """
    _check_matmul_inputs(a, b, "matmul_einsum")
    return torch.einsum("ik,kj->ij", a, b)  # (m, k), (k, n) -> (m, n)


def matmul_blas(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b``: one call into the BLAS general matrix multiply (sgemm / dgemm).

    On a CPU build of torch this is Intel MKL or OpenBLAS: SIMD, cache-blocked and
    multithreaded. It accepts transposed (non-contiguous) inputs directly.

    Args:
        a: ``(m, k)`` matrix.
        b: ``(k, n)`` matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` product.

    Taught in: chapter 3, Matmul (rung 6).
    """
    _check_matmul_inputs(a, b, "matmul_blas")
    return a @ b  # (m, k) @ (k, n) -> (m, n)


def matmul_batched(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A batch of independent products with ``torch.bmm``: ``c[s] = a[s] @ b[s]``.

    No broadcasting of the batch axis: both inputs must hold the same number ``B`` of
    matrices (``torch.matmul`` would broadcast it; ``bmm`` does not).

    Args:
        a: ``(B, m, k)`` stack of matrices.
        b: ``(B, k, n)`` stack of matrices, same ``B`` and dtype as ``a``.

    Returns:
        ``(B, m, n)`` stack of products.

    Taught in: chapter 3, Matmul (rung 7).
    """
    for label, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor):
            raise ValueError(
                f"matmul_batched expects torch tensors, but {label} is a {type(x).__name__}."
            )
        if x.dim() != 3:
            raise ValueError(
                f"matmul_batched needs 3-D inputs (B, rows, cols), but {label} has shape "
                f"{tuple(x.shape)}; use matmul_blas for a single 2-D product."
            )
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"matmul_batched needs the same batch size B in a and b, got {a.shape[0]} and "
            f"{b.shape[0]}; torch.bmm does not broadcast the batch axis."
        )
    if a.shape[2] != b.shape[1]:
        raise ValueError(
            f"matmul_batched needs a.shape[2] == b.shape[1] (the inner dimensions), but got "
            f"a {tuple(a.shape)} and b {tuple(b.shape)}; did you mean to transpose one of them?"
        )
    if a.dtype != b.dtype:
        raise ValueError(
            f"matmul_batched needs a and b to have the same dtype, got {a.dtype} and "
            f"{b.dtype}; convert one of them, e.g. b.to(a.dtype)."
        )
    return torch.bmm(a, b)  # (B, m, k) @ (B, k, n) -> (B, m, n)


# ---------------------------------------------------------------- cost and accuracy


def matmul_flops(m: int, k: int, n: int, *, batch: int = 1) -> int:
    """Floating-point operations of an ``(m, k) @ (k, n)`` product: ``2 * m * k * n``.

    Derivation. The output has ``m * n`` entries. Entry ``c[i, j] = sum_p a[i, p] b[p, j]``
    needs ``k`` multiplications and ``k - 1`` additions to combine ``k`` products, so
    ``2k - 1`` operations, and ``m * n * (2k - 1)`` in all. The convention drops the
    ``- 1``: it counts one multiply-add per ``(i, j, p)``, which is exact for code that
    accumulates into a zeroed ``c`` (``c[i, j] += ...``, as in :func:`matmul_loops`) and is
    what a fused multiply-add (FMA) instruction does. Hence ``2 * m * k * n``.

    Args:
        m, k, n: the shapes of ``(m, k) @ (k, n)``; non-negative integers.
        batch: number of independent products (``B`` of :func:`matmul_batched`).

    Returns:
        ``2 * batch * m * k * n``.

    Taught in: chapter 3, Matmul.
    """
    for label, v in (("m", m), ("k", k), ("n", n), ("batch", batch)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"matmul_flops needs {label} to be a non-negative int, got {v!r}.")
    return 2 * batch * m * k * n


def matmul_error_bound(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise worst-case rounding error of any floating-point ``a @ b``.

    In floating point every product and every sum is rounded: ``fl(x op y) =
    (x op y)(1 + d)`` with ``|d| <= u``, the unit roundoff (``u = eps / 2``: 2**-24 for
    float32, 2**-53 for float64). In a length-``k`` dot product each term ``a[i, p] b[p, j]``
    is rounded once when formed and at most ``k - 1`` more times as it is added in, in any
    summation order, so its relative error is at most ``(1 + u)**k - 1 <= gamma_k`` with
    ``gamma_k = k u / (1 - k u)``. Adding the terms' bounds gives

        |computed c[i, j] - exact c[i, j]| <= gamma_k * sum_p |a[i, p]| |b[p, j]|,

    i.e. ``gamma_k * (|a| @ |b|)``. This is why two correct implementations (different
    summation orders) may disagree in the last digits, and what tolerance to use when
    comparing them. Computed in float64 (its own rounding is negligible next to float32).

    Args:
        a: ``(m, k)`` floating-point matrix.
        b: ``(k, n)`` floating-point matrix, same dtype as ``a``.

    Returns:
        ``(m, n)`` float64 tensor of bounds, for results computed in ``a.dtype``.

    Taught in: chapter 3, Matmul (checking each rung).
    """
    _, k, _ = _check_matmul_inputs(a, b, "matmul_error_bound")
    if not a.is_floating_point():
        raise ValueError(
            f"matmul_error_bound is about floating-point rounding, got dtype {a.dtype}; "
            "integer products are exact (or overflow)."
        )
    u = torch.finfo(a.dtype).eps / 2
    if k * u >= 1:
        raise ValueError(f"matmul_error_bound needs k * u < 1, got k={k} for dtype {a.dtype}.")
    gamma_k = k * u / (1 - k * u)
    return gamma_k * (a.double().abs() @ b.double().abs())  # (m, k) @ (k, n) -> (m, n)


# ---------------------------------------------------------------- timing


def time_samples(
    fn: Callable[..., object], *args: object, repeats: int = 5, warmup: int = 1
) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls ``fn(*args)``, after ``warmup`` untimed calls.

    The warm-up calls absorb one-time costs (lazy initialisation, thread-pool start-up,
    caches filling) that would otherwise land in the first measurement. Each call is timed
    on its own with ``time.perf_counter`` (monotonic, highest available resolution).

    Args:
        fn: the function to time.
        *args: its arguments.
        repeats: number of timed calls, at least 1.
        warmup: number of untimed calls first, at least 0.

    Returns:
        The ``repeats`` durations in seconds, in call order.

    Taught in: chapter 3, Matmul (timing caveats).
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(
            f"time_samples needs repeats >= 1 and warmup >= 0, got repeats={repeats}, "
            f"warmup={warmup}."
        )
    for _ in range(warmup):
        fn(*args)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        samples.append(time.perf_counter() - start)
    return samples


def time_call(fn: Callable[..., object], *args: object, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn(*args)`` (see :func:`time_samples`).

    The median, unlike the mean, ignores the occasional slow call caused by another
    process taking the CPU, which happens often on a shared machine.

    Taught in: chapter 3, Matmul.
    """
    return statistics.median(time_samples(fn, *args, repeats=repeats, warmup=warmup))


def gflops(m: int, k: int, n: int, seconds: float, *, batch: int = 1) -> float:
    """Throughput in GFLOP/s: ``matmul_flops(m, k, n, batch=batch) / seconds / 1e9``.

    Dividing by the work done makes runs of different sizes comparable.

    Taught in: chapter 3, Matmul.
    """
    if not seconds > 0:
        raise ValueError(f"gflops needs a positive duration in seconds, got {seconds!r}.")
    return matmul_flops(m, k, n, batch=batch) / seconds / 1e9
