"""Grader for the chapter 6 set: autograd from the inside.

Student API (chapter 6; ``fromscratch.autograd_fn`` and ``fromscratch.gradcheck`` implement the
same kind of pieces):

- ``SoftplusFunction``: a ``torch.autograd.Function`` with ``forward(ctx, x)`` = softplus(x) =
  log(1 + eˣ), computed stably as max(x, 0) + log1p(e^{−|x|}), and ``backward(ctx, grad_output)``
  = grad_output · sigmoid(x), from what ``forward`` saved with ``ctx.save_for_backward``.
- ``central_difference(f, x, eps)``: the gradient of a scalar function ``f`` at the float64
  tensor ``x`` (any shape), entry by entry, by (f(x + eps·e_k) − f(x − eps·e_k)) / (2 eps),
  without modifying ``x``.
- ``Value``: a scalar autograd engine (``.data``, ``.grad``, ``+``, ``*`` with Values and plain
  numbers on either side, ``tanh()``, ``exp()``, ``backward()`` by a topological sort, gradients
  accumulated with ``+=``).

Forbidden (``fromscratch.rules.CH06``): the course's reference code everywhere; autograd inside
``central_difference`` and ``Value``. ``SoftplusFunction`` is exercised by autograd itself (the
driver below calls ``torch.autograd.grad`` and ``torch.autograd.gradcheck`` on it), so autograd
cannot be forbidden there.

Callables and classes do not cross the wire: the drivers below run in the sandbox and build the
hidden function (from coefficients) and the hidden expression graphs (from a program of
operations) there, and return plain numbers.

Tolerances (``CH06.tolerances``):

- "float64" (1e-10): softplus values and gradients are compared elementwise,
  |got − want| ≤ tol·|want| (softplus > 0 and sigmoid > 0 everywhere; the inputs stay in
  [−700, 900], where e^{−|x|} is a normal float64). The stable forms have relative errors of a
  few u = 2⁻⁵³ ≈ 1.1e-16 (one exp, one log1p, one add of terms of the same sign), so the margin
  is about 10⁵; the naive log(1 + eˣ) has relative error 1 at x ≤ −40 (1 + e^{−40} rounds to
  1) and overflows at x > 709. Value data and gradients are compared as
  |got − want| ≤ tol·max(1, |want|) with torch's float64 autograd: at most 12 operations on
  numbers of size ≤ 100, each rounding with relative error u, and tanh arguments |n| ≤ 2.5 so that
  1 − tanh² ≥ 0.026 is never a cancellation; the rounding is below 1e-13, a margin of 10³.
- "central_difference" (1e-6): a case passes when max_k |g_k − ∂_k f(x)| ≤ tol·max(1, ‖∇f(x)‖∞).
  The hidden f is f(x) = Σ_k (q_k v_k² + a_k v_k³ + b_k sin(c_k v_k)) + Σ_k d_k v_k v_{k+1} with
  v = x.reshape(−1), 1 ≤ q_k ≤ 2, |a_k| ≤ 0.1, |b_k| ≤ 0.3, 0.5 ≤ c_k ≤ 1.2, |d_k| ≤ 0.5,
  |v_k| ≤ 1, and eps ∈ [1e-4, 3e-4]. Taylor: the central difference is off by
  eps²/6 · |∂³_k f(ξ)| ≤ eps²/6 · (6|a_k| + |b_k| c_k³) ≤ (3e-4)²/6 · 1.12 ≈ 1.7e-8 (the coupling
  terms are linear in v_k, so exact). Rounding: each f is a sum of ≤ 4n + 2 ≤ 50 terms of total
  size F ≤ 50, so each value is off by ≤ 50·u·F ≈ 3e-13, the difference quotient by
  ≤ 3e-13/eps ≤ 3e-9; moving x_k by ±eps rounds the step by ≤ u|x_k|, a relative error ≤ 1e-12.
  Total ≤ 2.1e-8: margin ≥ 47 below tol. A forward difference (f(x + eps) − f(x))/eps is off by
  about eps/2 · ∂²_kk f ≥ 1e-4/2 · (2 − 0.6 − 0.44) ≈ 4.8e-5 at every k, while
  tol·max(1, ‖∇f‖∞) ≤ 1e-6 · 6.5: caught with a margin ≥ 7.

Hidden inputs per submission: every case draws its numbers from
``derive_seed(seed, "<grade_id>/<i>")``. Messages name the case's kind and the likely mistake,
never the hidden numbers; ``hidden_values`` lists what must never appear in feedback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    derive_seed,
    part_checks,
)
from fromscratch.rules import CH06 as RULES

TOL = RULES.tolerances["float64"]
CD_TOL = RULES.tolerances["central_difference"]
SHORTCUT_HINTS = {
    "autograd": "compute the gradient yourself: central differences with calls of f only, and"
    " Value's own _backward closures in a topological order (no torch autograd)",
    "reference": "write it yourself, as the chapter explains",
}

CALL_TIMEOUT = 10.0  # seconds per call; every call here takes milliseconds


# ----------------------------------------------------------------------------- drivers (sandbox)


def drive_softplus(target, x, upstream, check_x):
    """Run in the sandbox: apply SoftplusFunction to x (float64, requires_grad), take the
    gradient with the upstream dL/dy by torch.autograd.grad and by calling backward directly,
    count the tensors the node saved, and (if check_x is given) compare the Jacobian at check_x
    with central differences of the forward, as torch.autograd.gradcheck does (float64, step
    1e-6, |analytic − numeric| ≤ 1e-5 + 1e-3·|numeric| entrywise)."""
    import torch

    x = x.detach().clone().requires_grad_(True)
    y = target.apply(x)
    if type(y) is not torch.Tensor:
        return {"other": type(y).__name__}
    out = {"y": y.detach().clone(), "has_graph": y.grad_fn is not None}
    if y.grad_fn is None:
        return out
    try:
        out["saved"] = len(y.grad_fn.saved_tensors)
    except Exception:  # noqa: BLE001  (freed or unavailable: counted as none)
        out["saved"] = 0
    direct = target.backward(y.grad_fn, upstream)  # the ctx of a custom Function is its node
    direct = direct[0] if isinstance(direct, (tuple, list)) else direct
    out["direct"] = direct.detach().clone() if type(direct) is torch.Tensor else None
    (grad,) = torch.autograd.grad(y, x, upstream, allow_unused=True)
    out["grad"] = None if grad is None else grad.detach().clone()
    if check_x is not None:  # gradcheck's test, by hand (torch's gradcheck, when it fails,
        try:  # leaves the grader's dispatch mode): the full Jacobian against central differences
            eye = torch.eye(check_x.numel(), dtype=torch.float64)
            p, h = check_x.detach().clone(), 1e-6
            with torch.no_grad():
                cols = [(target.apply(p + h * e) - target.apply(p - h * e)) / (2 * h) for e in eye]
            numeric = torch.stack(cols, dim=1)  # (n, n): column j = d y / d p_j
            point = p.clone().requires_grad_(True)
            yp = target.apply(point)
            rows = [torch.autograd.grad(yp, point, e, retain_graph=True)[0] for e in eye]
            analytic = torch.stack(rows)  # (n, n): row i = d y_i / d p
            close = (analytic - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs()
            out["gradcheck"] = bool(close.all())
        except Exception as exc:  # noqa: BLE001  (reported as a failed check)
            out["gradcheck"] = False
            out["gradcheck_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return out


def drive_central(target, x, eps, coeffs):
    """Run in the sandbox: build the hidden f from its coefficients, call
    central_difference(f, x, eps), and report the result and whether x was changed."""
    import torch

    q, a, b, c, d = (torch.tensor(v, dtype=torch.float64) for v in coeffs)
    calls = [0]

    def f(t):
        calls[0] += 1
        v = t.reshape(-1)
        return (q * v**2 + a * v**3 + b * torch.sin(c * v)).sum() + (d * v[:-1] * v[1:]).sum()

    before = x.detach().clone()
    g = target(f, x, eps)
    out = {"x_changed": not torch.equal(x.detach(), before), "calls": calls[0]}
    if type(g) is torch.Tensor:
        out["grad"] = g.detach().clone()
    else:
        out["other"] = type(g).__name__
    return out


def drive_value(target, program):
    """Run in the sandbox: build the expression graph of ``program`` with the student's Value
    class, call backward() on the last node, and report every node's data and the inputs'
    grads as floats (or the step that raised)."""

    def number(v):
        try:
            return float(v)
        except Exception:  # noqa: BLE001  (not a number: reported as None)
            return None

    nodes = []
    for step, op in enumerate(program):
        kind = op[0]
        try:
            if kind == "input":
                node = target(op[1])
            elif kind == "add":
                node = nodes[op[1]] + nodes[op[2]]
            elif kind == "mul":
                node = nodes[op[1]] * nodes[op[2]]
            elif kind == "add_num":
                node = nodes[op[1]] + op[2]
            elif kind == "num_add":
                node = op[2] + nodes[op[1]]
            elif kind == "mul_num":
                node = nodes[op[1]] * op[2]
            elif kind == "num_mul":
                node = op[2] * nodes[op[1]]
            elif kind == "tanh":
                node = nodes[op[1]].tanh()
            else:  # exp
                node = nodes[op[1]].exp()
        except Exception as exc:  # noqa: BLE001  (which operation failed is the feedback)
            return {"error_at": step, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        nodes.append(node)
    data = [number(getattr(n, "data", None)) for n in nodes]
    try:
        nodes[-1].backward()
    except Exception as exc:  # noqa: BLE001
        return {"data": data, "error_at": "backward", "error": f"{type(exc).__name__}: {exc}"}
    inputs = [i for i, op in enumerate(program) if op[0] == "input"]
    return {"data": data, "grads": [number(getattr(nodes[i], "grad", None)) for i in inputs]}


# ----------------------------------------------------------------------------- helpers


def _uniform(gen: torch.Generator, lo: float, hi: float, n: int | None = None):
    u = torch.rand(() if n is None else (n,), generator=gen, dtype=torch.float64)
    v = lo + (hi - lo) * u
    return float(v) if n is None else v


def _signed(gen: torch.Generator, lo: float, hi: float) -> float:
    """A number with |v| in [lo, hi] and a random sign."""
    sign = 1.0 if float(torch.rand((), generator=gen)) < 0.5 else -1.0
    return sign * _uniform(gen, lo, hi)


def _where(case_text: str) -> str:
    return f"On {case_text}"


# ----------------------------------------------------------------------------- softplus


def softplus_exact(x: torch.Tensor) -> torch.Tensor:
    """softplus in float64 by the stable form (the trusted reference)."""
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def sigmoid_exact(x: torch.Tensor) -> torch.Tensor:
    z = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))


@dataclass(frozen=True)
class SoftplusCase:
    kind: str  # "moderate" or "extreme"
    seed: int

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x, the upstream gradient dL/dy (entries of both signs, |v| in [0.5, 2]) and the
        gradcheck point (moderate cases only)."""
        gen = torch.Generator().manual_seed(self.seed)
        if self.kind == "moderate":
            x = _uniform(gen, -6.0, 6.0, 7)
        else:  # two very negative (log(1 + e^x) loses them), two overflowing exp, two middling
            x = torch.cat([
                _uniform(gen, -700.0, -45.0, 2),
                _uniform(gen, 720.0, 900.0, 2),
                _uniform(gen, 25.0, 600.0, 1),
                _uniform(gen, -30.0, 30.0, 1),
            ])  # fmt: skip
            x = x[torch.randperm(6, generator=gen)]
        n = x.numel()
        signs = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).double()
        upstream = signs * _uniform(gen, 0.5, 2.0, n)
        check_x = _uniform(gen, -3.0, 3.0, 4) if self.kind == "moderate" else None
        return x, upstream, check_x

    def describe(self) -> str:
        if self.kind == "moderate":
            return "a float64 vector with entries in [-6, 6]"
        return (
            "a float64 vector with very negative (down to -700) and very large (up to 900) entries"
        )


def _softplus_reply(student: Student, case: SoftplusCase) -> dict:
    x, upstream, check_x = case.inputs()
    try:
        reply = student.call(
            "SoftplusFunction", x, upstream, check_x, timeout=CALL_TIMEOUT, driver=drive_softplus
        )
    except StudentError as error:
        text = str(error)
        if "apply" in text and "attribute" in text:
            text += " Hint: SoftplusFunction must subclass torch.autograd.Function."
        elif "backward" in text and "not implemented" in text.lower():
            text += " Hint: define backward as a @staticmethod of SoftplusFunction."
        elif "returned an incorrect number of gradients" in text:
            text += " Hint: backward returns one gradient per input of forward (one tensor here)."
        raise StudentError(f"{_where(case.describe())}: {text}") from None
    if "other" in reply:
        raise GradingFailure(
            f"{_where(case.describe())}, SoftplusFunction.apply returned a {reply['other']}; "
            "forward must return a tensor of x's shape."
        )
    return reply


def _close(got: torch.Tensor, want: torch.Tensor) -> bool:
    return bool(((got.double() - want).abs() <= TOL * want.abs()).all())


def _run_softplus_forward(student: Student, case: SoftplusCase) -> None:
    where = _where(case.describe())
    x, _, _ = case.inputs()
    reply = _softplus_reply(student, case)
    y = reply["y"]
    if tuple(y.shape) != tuple(x.shape):
        raise GradingFailure(f"{where}, forward returned shape {tuple(y.shape)}, not x's shape.")
    if y.dtype != torch.float64:
        raise GradingFailure(
            f"{where}, forward returned {str(y.dtype).removeprefix('torch.')} for a float64 x; "
            "keep x's dtype (do not build new tensors with a default dtype)."
        )
    want = softplus_exact(x)
    if _close(y, want):
        return
    big = x > 709
    if bool(torch.isinf(y[big]).any() or torch.isnan(y[big]).any()):
        raise GradingFailure(
            f"{where}, forward returned inf or nan for large x: exp(x) overflows above about "
            "709. Use the stable form max(x, 0) + log1p(exp(-|x|)), whose exp never overflows."
        )
    neg = x < -40
    if bool(neg.any()) and bool((y[neg] == 0).all()):
        raise GradingFailure(
            f"{where}, forward returned 0 for very negative x, where softplus(x) ≈ eˣ > 0: "
            "1 + exp(-|x|) rounds to 1 when exp(-|x|) is below 1e-16, so log(1 + ...) gives 0. "
            "Use torch.log1p(torch.exp(-|x|)), which keeps the tiny value."
        )
    if bool(torch.allclose(y.double(), sigmoid_exact(x), rtol=1e-6)):
        raise GradingFailure(f"{where}, forward returned sigmoid(x); softplus(x) is log(1 + eˣ).")
    if bool(torch.allclose(y.double(), torch.log1p(torch.exp(-x.abs())), rtol=1e-6)):
        raise GradingFailure(
            f"{where}, forward returned log1p(exp(-|x|)) without the max(x, 0) term."
        )
    worst = float(((y.double() - want).abs() / want.abs()).max())
    raise GradingFailure(
        f"{where}, forward's largest relative error is {worst:.2g}; grading needs ≤ {TOL:g} "
        "elementwise. Compute max(x, 0) + log1p(exp(-|x|))."
    )


def _run_softplus_backward(student: Student, case: SoftplusCase) -> None:
    where = _where(case.describe())
    x, upstream, _ = case.inputs()
    reply = _softplus_reply(student, case)
    if not reply["has_graph"]:
        raise GradingFailure(
            f"{where}, the output of SoftplusFunction.apply has no grad_fn: call it as "
            "SoftplusFunction.apply(x), and return a tensor computed in forward."
        )
    grad = reply["grad"]
    if grad is None:
        raise GradingFailure(f"{where}, backward returned None; return dL/dx (shape of x).")
    if tuple(grad.shape) != tuple(x.shape):
        raise GradingFailure(f"{where}, backward returned shape {tuple(grad.shape)}, not x's.")
    want = upstream * sigmoid_exact(x)
    direct = reply["direct"]
    if _close(grad, want) and (direct is None or not _close(direct, want)):
        raise GradingFailure(
            f"{where}, torch.autograd.grad returned the right gradient, but calling "
            "SoftplusFunction.backward(ctx, grad_output) directly did not: backward must compute "
            "the gradient from ctx and grad_output alone."
        )
    if not _close(grad, want):
        g = grad.double()
        if bool(torch.isnan(g).any() or torch.isinf(g).any()):
            msg = (
                "backward returned nan or inf: exp(x) / (1 + exp(x)) overflows to inf/inf for "
                "large x. Compute sigmoid stably (1 / (1 + exp(-x)) for x ≥ 0, "
                "exp(x) / (1 + exp(x)) for x < 0, or torch.sigmoid)."
            )
        elif bool(torch.allclose(g, sigmoid_exact(x), rtol=1e-6)):
            msg = (
                "backward returned sigmoid(x) without multiplying by grad_output: the chain rule "
                "gives dL/dx = grad_output · sigmoid(x)."
            )
        elif bool(torch.allclose(g, upstream * sigmoid_exact(-x), rtol=1e-6)):
            msg = "backward used sigmoid(-x); d softplus/dx = sigmoid(x) = 1/(1 + e^{-x})."
        elif bool(torch.allclose(g, upstream * softplus_exact(x), rtol=1e-6)):
            msg = "backward multiplied by softplus(x) itself; its derivative is sigmoid(x)."
        elif bool((x < -40).any()) and bool((g[x < -40] == 0).all()):
            msg = (
                "backward returned 0 for very negative x, where sigmoid(x) ≈ eˣ > 0 (e.g. "
                "1 − exp(−softplus(x)) cancels to 0): compute sigmoid(x) from x, or use "
                "-torch.expm1(-y) if you saved the output y."
            )
        else:
            worst = float(((g - want).abs() / want.abs()).max())
            msg = (
                f"backward's largest relative error is {worst:.2g}; grading needs ≤ {TOL:g} "
                "elementwise (dL/dx = grad_output · sigmoid(x))."
            )
        raise GradingFailure(f"{where}, {msg}")
    if case.kind == "moderate":
        if not reply.get("gradcheck"):
            extra = reply.get("gradcheck_error", "")
            raise GradingFailure(
                f"{where}, the gradcheck test failed at float64 points in [-3, 3]"
                + (f" ({extra})" if extra else "")
                + ": the Jacobian from your backward does not match central differences of"
                " your forward (what torch.autograd.gradcheck checks)."
            )
        if reply["saved"] < 1:
            raise GradingFailure(
                f"{where}, the gradient is right but forward saved no tensor with "
                "ctx.save_for_backward (e.g. it stored ctx.x = x): save what backward needs "
                "with ctx.save_for_backward(...) and read it back with ctx.saved_tensors."
            )


# ----------------------------------------------------------------------------- central differences


@dataclass(frozen=True)
class CentralCase:
    shape: tuple[int, ...]
    seed: int

    def inputs(self) -> tuple[torch.Tensor, float, list[list[float]]]:
        """x (float64, entries in [-1, 1]), eps in [1e-4, 3e-4], and f's coefficients."""
        gen = torch.Generator().manual_seed(self.seed)
        n = math.prod(self.shape)
        x = _uniform(gen, -1.0, 1.0, n).reshape(self.shape)
        eps = math.exp(_uniform(gen, math.log(1e-4), math.log(3e-4)))
        q = _uniform(gen, 1.0, 2.0, n)
        a = _uniform(gen, -0.1, 0.1, n)
        b = _uniform(gen, -0.3, 0.3, n)
        c = _uniform(gen, 0.5, 1.2, n)
        d = _uniform(gen, -0.5, 0.5, n - 1)
        return x, eps, [t.tolist() for t in (q, a, b, c, d)]

    def describe(self) -> str:
        kind = "vector" if len(self.shape) == 1 else "matrix"
        return f"a float64 {kind} x and a smooth f (polynomial and sine terms)"


def f_value(x: torch.Tensor, coeffs: list[list[float]]) -> torch.Tensor:
    """The hidden f, in float64 (the same formula the driver builds)."""
    q, a, b, c, d = (torch.tensor(v, dtype=torch.float64) for v in coeffs)
    v = x.reshape(-1).double()
    return (q * v**2 + a * v**3 + b * torch.sin(c * v)).sum() + (d * v[:-1] * v[1:]).sum()


def f_gradient(x: torch.Tensor, coeffs: list[list[float]]) -> torch.Tensor:
    """∂f/∂x exactly (by hand), with x's shape."""
    q, a, b, c, d = (torch.tensor(v, dtype=torch.float64) for v in coeffs)
    v = x.reshape(-1).double()
    g = 2 * q * v + 3 * a * v**2 + b * c * torch.cos(c * v)
    g[:-1] += d * v[1:]
    g[1:] += d * v[:-1]
    return g.reshape(x.shape)


def _forward_difference(x: torch.Tensor, eps: float, coeffs) -> torch.Tensor:
    flat, out = x.reshape(-1).double(), torch.empty(x.numel(), dtype=torch.float64)
    base = f_value(flat, coeffs)
    for k in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[k] = eps
        out[k] = (f_value(flat + e, coeffs) - base) / eps
    return out.reshape(x.shape)


def _run_central(student: Student, case: CentralCase) -> None:
    where = _where(case.describe())
    x, eps, coeffs = case.inputs()
    try:
        reply = student.call(
            "central_difference", x, eps, coeffs, timeout=CALL_TIMEOUT, driver=drive_central
        )
    except StudentError as error:
        raise StudentError(f"{where}: {error}") from None
    if "other" in reply:
        raise GradingFailure(
            f"{where}, central_difference returned a {reply['other']}; return a float64 tensor "
            "of x's shape."
        )
    got = reply["grad"]
    if reply["x_changed"]:
        raise GradingFailure(
            f"{where}, central_difference changed the caller's x: restore each entry after "
            "nudging it, or nudge a copy (x.clone())."
        )
    want = f_gradient(x, coeffs)
    if got.numel() == 1 and x.numel() > 1:
        raise GradingFailure(
            f"{where}, central_difference returned one number: nudging all entries at once "
            "gives a directional derivative. Nudge one entry at a time (e_k is 1 at entry k)."
        )
    if tuple(got.shape) != tuple(x.shape):
        hint = " (reshape it back to x.shape)" if got.numel() == x.numel() else ""
        raise GradingFailure(
            f"{where}, the gradient has shape {tuple(got.shape)}, not x's shape "
            f"{tuple(x.shape)}{hint}."
        )
    if got.dtype != torch.float64:
        raise GradingFailure(
            f"{where}, the gradient is {str(got.dtype).removeprefix('torch.')}; in float32 the "
            "rounding error u·|f|/eps is far above the tolerance. Keep float64 (e.g. "
            "torch.zeros_like(x), or dtype=x.dtype)."
        )
    scale = max(1.0, float(want.abs().max()))
    err = float((got - want).abs().max())
    if err <= CD_TOL * scale:
        return
    if math.isnan(err):
        raise GradingFailure(f"{where}, the gradient contains nan.")

    def near(candidate: torch.Tensor, rel: float = 1e-3) -> bool:
        return float((got - candidate).abs().max()) <= rel * scale

    if near(2 * want):
        msg = "the gradient is twice the right one: divide f(x + eps) − f(x − eps) by 2·eps."
    elif near(want / 2):
        msg = "the gradient is half the right one: divide by 2·eps, not 4·eps."
    elif near(-want):
        msg = "the gradient has the wrong sign: compute f(x + eps) − f(x − eps)."
    elif near(_forward_difference(x, eps, coeffs), 1e-7):
        msg = (
            "the result matches the one-sided difference (f(x + eps) − f(x)) / eps, whose error "
            "is about eps·f''/2: use the central difference (f(x + eps) − f(x − eps)) / (2 eps)."
        )
    else:
        msg = (
            f"max |g − ∇f| is {err / scale:.2g}·max(1, ‖∇f‖∞); grading needs ≤ {CD_TOL:g}. "
            "Nudge entry k only, by +eps and −eps, and put the quotient at entry k."
        )
    raise GradingFailure(f"{where}, {msg}")


# ----------------------------------------------------------------------------- Value


OP_TEXT = {
    "add": "a + b of two Values",
    "mul": "a * b of two Values",
    "add_num": "a + number",
    "num_add": "number + a (needs __radd__)",
    "mul_num": "a * number",
    "num_mul": "number * a (needs __rmul__)",
    "tanh": "a.tanh()",
    "exp": "a.exp()",
}

# Templates: lists of (op, operand indices or "k" for a fresh constant). Inputs come first.
# Each has the kinds its part is about; the numbers are drawn per case.
TEMPLATES: dict[str, list[tuple]] = {
    # value_arithmetic: trees (every node used once), Values and numbers on either side
    "arith_0": [("input",), ("input",), ("input",),
                ("num_mul", 0), ("add", 3, 1), ("add_num", 2), ("mul", 4, 5), ("num_add", 6),
                ("mul_num", 7)],
    "arith_1": [("input",), ("input",), ("input",), ("input",),
                ("mul", 0, 1), ("num_add", 4), ("mul_num", 2), ("add", 6, 3), ("mul", 5, 7),
                ("num_mul", 8), ("add_num", 9)],
    # value_shared_nodes: a*a, a+a, and diamonds (a node used by two later nodes)
    "shared_0": [("input",), ("input",),
                 ("mul", 0, 0), ("add", 0, 0), ("mul", 2, 1), ("add", 4, 3), ("mul", 5, 2)],
    "shared_1": [("input",), ("input",), ("input",),
                 ("mul", 0, 1), ("add", 3, 0), ("mul", 4, 3), ("mul_num", 4), ("add", 5, 6),
                 ("mul", 7, 2), ("add", 8, 4)],
    # value_tanh_exp: a tanh neuron and an exp/tanh product (no shared nodes)
    "neuron": [("input",), ("input",), ("input",), ("input",), ("input",),
               ("mul", 0, 1), ("mul", 2, 3), ("add", 5, 6), ("add", 7, 4), ("tanh", 8),
               ("mul_num", 9)],
    "exp_tanh": [("input",), ("input",), ("input",),
                 ("mul", 0, 1), ("exp", 3), ("add_num", 2), ("tanh", 5), ("mul", 4, 6),
                 ("num_add", 7)],
}  # fmt: skip


@dataclass(frozen=True)
class ValueCase:
    template: str
    seed: int

    def program(self) -> list[list]:
        """The operations with their numbers: inputs with |v| in [0.2, 1.5] ([0.2, 0.8] in the
        graphs with tanh), constants with |k| in [0.5, 1.5]; so tanh arguments stay within
        |n| ≤ 2.5 (0.8² + 0.8² + 0.8 and 0.8 + 1.5; checked in the tests)."""
        gen = torch.Generator().manual_seed(self.seed)
        out: list[list] = []
        for op in TEMPLATES[self.template]:
            kind = op[0]
            if kind == "input":
                top = 0.8 if self.template in ("neuron", "exp_tanh") else 1.5
                out.append(["input", _signed(gen, 0.2, top)])
            elif kind in ("add", "mul"):
                out.append([kind, op[1], op[2]])
            elif kind in ("add_num", "num_add", "mul_num", "num_mul"):
                out.append([kind, op[1], _signed(gen, 0.5, 1.5)])
            else:
                out.append([kind, op[1]])
        return out

    def describe(self) -> str:
        return VALUE_TEXT[self.template]


VALUE_TEXT = {
    "arith_0": "an expression tree of +, * with Values and plain numbers on either side",
    "arith_1": "a second expression tree of +, * with Values and plain numbers on either side",
    "shared_0": "an expression that uses nodes more than once (a*a, a+a, a product used twice)",
    "shared_1": "an expression with diamonds (a node used by two later nodes, which meet again)",
    "neuron": "a tanh neuron tanh(w1*x1 + w2*x2 + b) times a number",
    "exp_tanh": "an expression exp(a*b) * tanh(c + number) + ...",
}


def torch_reference(program: list[list]) -> tuple[list[float], list[float]]:
    """Every node's data and the inputs' gradients of the last node, by torch autograd in
    float64 (trusted)."""
    nodes: list[torch.Tensor] = []
    for op in program:
        kind = op[0]
        if kind == "input":
            nodes.append(torch.tensor(op[1], dtype=torch.float64, requires_grad=True))
        elif kind == "add":
            nodes.append(nodes[op[1]] + nodes[op[2]])
        elif kind == "mul":
            nodes.append(nodes[op[1]] * nodes[op[2]])
        elif kind in ("add_num", "num_add"):
            nodes.append(nodes[op[1]] + op[2])
        elif kind in ("mul_num", "num_mul"):
            nodes.append(nodes[op[1]] * op[2])
        elif kind == "tanh":
            nodes.append(torch.tanh(nodes[op[1]]))
        else:
            nodes.append(torch.exp(nodes[op[1]]))
    inputs = [nodes[i] for i, op in enumerate(program) if op[0] == "input"]
    grads = torch.autograd.grad(nodes[-1], inputs)
    return [float(n.detach()) for n in nodes], [float(g) for g in grads]


def simulate(
    program: list[list],
    *,
    accumulate: bool = True,
    order: str = "topo",
    seed_grad: float = 1.0,
    tanh_grad: Callable[[float, float], float] = lambda x, t: 1 - t * t,
    exp_grad: Callable[[float, float], float] = lambda x, e: e,
) -> list[float]:
    """The inputs' grads that a micrograd-style engine with the given mistakes would compute
    (to name the mistake): ``accumulate=False`` overwrites grads; ``order="dfs"`` runs each
    node's backward and then recurses into its children, with no topological sort."""
    data: list[float] = []
    parents: list[list[tuple[int, Callable[[float], float]]]] = []  # node -> [(child, local)]
    for op in program:
        kind = op[0]
        if kind == "input":
            data.append(op[1])
            parents.append([])
            continue
        i = op[1]
        xi = data[i]
        if kind in ("add", "mul"):
            j = op[2]
            xj = data[j]
            data.append(xi + xj if kind == "add" else xi * xj)
            if kind == "add":
                parents.append([(i, lambda g: g), (j, lambda g: g)])
            else:
                parents.append([(i, lambda g, xj=xj: g * xj), (j, lambda g, xi=xi: g * xi)])
        elif kind in ("add_num", "num_add"):
            data.append(xi + op[2])
            parents.append([(i, lambda g: g)])
        elif kind in ("mul_num", "num_mul"):
            data.append(xi * op[2])
            parents.append([(i, lambda g, k=op[2]: g * k)])
        elif kind == "tanh":
            t = math.tanh(xi)
            data.append(t)
            parents.append([(i, lambda g, xi=xi, t=t: g * tanh_grad(xi, t))])
        else:
            e = math.exp(xi)
            data.append(e)
            parents.append([(i, lambda g, xi=xi, e=e: g * exp_grad(xi, e))])
    grad = [0.0] * len(program)
    last = len(program) - 1
    grad[last] = seed_grad

    def step(node: int) -> None:
        for child, local in parents[node]:
            value = local(grad[node])
            grad[child] = grad[child] + value if accumulate else value

    if order == "topo":
        for node in range(last, -1, -1):  # creation order is a topological order
            step(node)
    else:

        def visit(node: int, depth: int = 0) -> None:
            if depth > 200:
                return
            step(node)
            for child in dict.fromkeys(c for c, _ in parents[node]):
                visit(child, depth + 1)

        visit(last)
    return [grad[i] for i, op in enumerate(program) if op[0] == "input"]


def _same(got: list, want: list[float]) -> bool:
    return all(
        g is not None and abs(g - w) <= TOL * max(1.0, abs(w))
        for g, w in zip(got, want, strict=True)
    )


def _value_diagnosis(program: list[list], grads: list, want: list[float]) -> str:
    if all(g == 0 for g in grads):
        return (
            "every input's grad is 0: backward() must first set the output's grad to 1 "
            "(dL/dL = 1), then run the nodes' backward steps."
        )
    variants = [
        (dict(accumulate=False),
         "gradients are overwritten instead of accumulated: a node used more than once (a*a, "
         "a+a, or by two later nodes) must get the sum of all contributions, "
         "self.grad += ..., not self.grad = ..."),
        (dict(order="dfs"),
         "backward visits a node before every node that uses it has passed its gradient down "
         "(a recursion without a topological sort): build the topological order of the graph "
         "first, then call each node's _backward once, from the output back"),
        (dict(tanh_grad=lambda x, t: 1 - t),
         "the tanh derivative is 1 − tanh(x)² (t = out.data), not 1 − t"),
        (dict(tanh_grad=lambda x, t: 1 - x * x),
         "the tanh derivative is 1 − tanh(x)²: square the OUTPUT t = tanh(x), not the input x"),
        (dict(tanh_grad=lambda x, t: t * t - 1),
         "the tanh derivative is 1 − tanh(x)², not tanh(x)² − 1"),
        (dict(tanh_grad=lambda x, t: 1 / math.cosh(x)),
         "the tanh derivative is 1 − tanh(x)² = 1/cosh(x)², not 1/cosh(x)"),
        (dict(exp_grad=lambda x, e: x),
         "the exp derivative is exp(x) itself (out.data), not x"),
        (dict(seed_grad=1.0, accumulate=True, order="topo", tanh_grad=lambda x, t: t),
         "the tanh derivative is 1 − tanh(x)², not tanh(x)"),
    ]  # fmt: skip
    for options, text in variants:
        try:
            candidate = simulate(program, **options)
        except (OverflowError, ZeroDivisionError, ValueError):
            continue
        if not _same(candidate, want) and _same(grads, candidate):
            return text
    if any(
        program[i][0] in ("add", "mul") and program[i][1] == program[i][2]
        for i in range(len(program))
    ) or _has_shared_node(program):
        return (
            "on this graph, where nodes are used more than once, the inputs' grads differ from "
            "torch autograd's: each node must (1) accumulate every contribution with +=, and "
            "(2) run its _backward exactly once, after every node that uses it has run: in "
            "reverse topological order (a recursion from the output without a topological "
            "sort breaks (2))"
        )
    return (
        "the inputs' grads differ from torch autograd's (each must be d(output)/d(input), summed "
        "over every path from the input to the output)"
    )


def _has_shared_node(program: list[list]) -> bool:
    """True if some node is an operand of two or more operations."""
    uses: dict[int, int] = {}
    for op in program:
        if op[0] in ("add", "mul"):
            for i in set(op[1:3]):
                uses[i] = uses.get(i, 0) + 1
        elif op[0] != "input":
            uses[op[1]] = uses.get(op[1], 0) + 1
    return any(n > 1 for i, n in uses.items() if program[i][0] != "input")


def _run_value(student: Student, case: ValueCase) -> None:
    where = _where(case.describe())
    program = case.program()
    try:
        reply = student.call("Value", program, timeout=CALL_TIMEOUT, driver=drive_value)
    except StudentError as error:
        raise StudentError(f"{where}: {error}") from None
    data_want, grads_want = torch_reference(program)
    if "error_at" in reply and reply["error_at"] != "backward":
        kind = program[reply["error_at"]][0]
        hint = ""
        if kind in ("num_add", "num_mul"):
            name = "__radd__" if kind == "num_add" else "__rmul__"
            sign = "+" if kind == "num_add" else "*"
            hint = f" Define {name}, which Python calls for number {sign} Value."
        elif kind in ("add_num", "mul_num"):
            hint = (
                " Wrap a plain number in a Value first (other = other if isinstance(other,"
                " Value) else Value(other))."
            )
        raise GradingFailure(
            f"{where}, {OP_TEXT[kind]} raised {reply['error']}.{hint}"
        )  # fmt: skip
    for step, (got, want) in enumerate(zip(reply["data"], data_want, strict=True)):
        if got is None or not abs(got - want) <= TOL * max(1.0, abs(want)):
            kind = program[step][0]
            what = "an input Value(x)" if kind == "input" else OP_TEXT[kind]
            raise GradingFailure(
                f"{where}, the data of {what} is wrong (or not a number): check that operation's "
                "forward value."
            )
    if reply.get("error_at") == "backward":
        raise GradingFailure(f"{where}, backward() raised {reply['error']}.")
    grads = reply["grads"]
    if any(g is None for g in grads):
        raise GradingFailure(
            f"{where}, an input's .grad is not a number after backward(): start every Value "
            "with grad = 0.0."
        )
    if _same(grads, grads_want):
        return
    raise GradingFailure(f"{where}, {_value_diagnosis(program, grads, grads_want)}.")


# ----------------------------------------------------------------------------- parts

PARTS: dict[str, tuple[str, ...]] = {
    "SoftplusFunction_forward": ("moderate", "extreme"),
    "SoftplusFunction_backward": ("moderate", "extreme"),
    "central_difference_vector": ("vector", "vector"),
    "central_difference_matrix": ("matrix", "matrix"),
    "Value_arithmetic": ("arith_0", "arith_1"),
    "Value_shared_nodes": ("shared_0", "shared_1"),
    "Value_tanh_exp": ("neuron", "exp_tanh"),
}
DESCRIPTIONS = {
    "SoftplusFunction_forward": "SoftplusFunction's forward: stable softplus (no overflow, no"
    " loss of tiny values)",
    "SoftplusFunction_backward": "SoftplusFunction's backward: grad_output · sigmoid(x),"
    " gradcheck, saved tensors",
    "central_difference_vector": "central_difference on float64 vectors",
    "central_difference_matrix": "central_difference on float64 matrices (x unchanged)",
    "Value_arithmetic": "Value: +, * with Values and numbers on either side, gradients",
    "Value_shared_nodes": "Value: gradients of nodes used more than once (accumulate, topological"
    " order)",
    "Value_tanh_exp": "Value: tanh() and exp() and their gradients",
}
POINTS = {
    "SoftplusFunction_forward": 2,
    "SoftplusFunction_backward": 2,
    "central_difference_vector": 1,
    "central_difference_matrix": 1,
    "Value_arithmetic": 1,
    "Value_shared_nodes": 2,
    "Value_tanh_exp": 1,
}


def cases_for(seed: int, grade_id: str) -> list:
    """The hidden cases of one part for the submission's ``seed``."""
    out: list = []
    for i, kind in enumerate(PARTS[grade_id]):
        case_seed = derive_seed(seed, f"{grade_id}/{i}")
        if grade_id.startswith("SoftplusFunction"):
            out.append(SoftplusCase(kind, case_seed))
        elif grade_id.startswith("central"):
            gen = torch.Generator().manual_seed(case_seed)
            if kind == "vector":
                shape: tuple[int, ...] = (int(torch.randint(3, 9, (), generator=gen)),)
            else:
                shape = tuple(int(s) for s in torch.randint(2, 5, (2,), generator=gen))
            out.append(CentralCase(shape, case_seed))
        else:
            out.append(ValueCase(kind, case_seed))
    return out


def _runner(grade_id: str):
    if grade_id == "SoftplusFunction_forward":
        return _run_softplus_forward
    if grade_id == "SoftplusFunction_backward":
        return _run_softplus_backward
    if grade_id.startswith("central"):
        return _run_central
    return _run_value


CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, _runner)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the hidden inputs and expected outputs, as a student would see them printed."""
    out: list[str] = []
    for grade_id in PARTS:
        for case in cases_for(seed, grade_id):
            if isinstance(case, SoftplusCase):
                x, upstream, _ = case.inputs()
                values = [*x.tolist()[:3], *upstream.tolist()[:2], *softplus_exact(x).tolist()[:3]]
            elif isinstance(case, CentralCase):
                x, eps, coeffs = case.inputs()
                values = [
                    *x.reshape(-1).tolist()[:3],
                    *f_gradient(x, coeffs).reshape(-1).tolist()[:3],
                ]
            else:
                program = case.program()
                data, grads = torch_reference(program)
                values = [op[-1] for op in program if op[0] == "input"][:3] + grads[:3] + data[-1:]
            out += [f"{v:.6f}" for v in values]
    return list(dict.fromkeys(out))
