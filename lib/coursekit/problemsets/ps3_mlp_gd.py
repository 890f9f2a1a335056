"""Graded parts of ``ps3_mlp_gd``: a one-hidden-layer sigmoid MLP, its gradients by hand, and GD.

Student API (``nn.Linear`` convention): x (n, d) or (d,); W1 (h, d); b1 (h,); W2 (o, h); b2 (o,).

- ``sigmoid(z)``: 1/(1+e^{−z}) elementwise, no nan/inf for |z| ≤ 1000.
- ``forward(x, W1, b1, W2, b2)``: σ(x W1ᵀ + b1) W2ᵀ + b2, shape (n, o) or (o,).
- ``mse_loss(pred, y)``: the mean of the squared errors over all entries, a tensor.
- ``gradients(x, y, W1, b1, W2, b2)``: (dW1, db1, dW2, db2) of ``mse_loss(forward(x, …), y)``,
  derived by hand (autograd inside it is a shortcut: ``FORBIDDEN``).
- ``train(x, y, W1, b1, W2, b2, lr, steps)``: plain gradient descent with autograd, updating the
  given ``requires_grad`` tensors in place; returns ``steps`` Python floats, each loss computed
  before its update.

Every reference is computed here, in the trusted process: values with ``torch.sigmoid``, the
gradients with autograd in float64, gradient-descent trajectories with autograd in float64. Test
shapes are n = 7, d = 5, h = 4, o = 3: all different, so a transposed matrix cannot pass for the
right one, and n·o = 21, n = 7, o = 3 and 2 are distinct factors, so a sum-instead-of-mean or a
missing factor 2 is recognisable from the ratio to the true gradient.

Tolerances, norm-wise relative to the reference: float64 1e-9, float32 1e-4. Every quantity here
is a short chain of sums of at most 7 products of O(1) numbers, so rounding leaves a relative
error of a few tens of u (u = 2⁻²⁴ ≈ 6e-8 in float32, 1.1e-16 in float64): about 1e-6 and 1e-14.
Gradient descent for 6 steps at lr = 0.5 on this smooth loss amplifies an initial perturbation by
at most (1 + lr·L)⁶ with L (the gradient's Lipschitz constant on these inputs) below 1, i.e. < 12.
Every mistake below changes a value by 10 % or more (a factor, a missing σ′ ≤ 1/4, a sign).

Messages name the likely mistake in the student's terms and never quote hidden expected values,
only ratios, shapes and public facts (σ(5) ≈ 0.993).

Hidden inputs per submission: every problem (data and parameters) and the random sigmoid inputs
are drawn from ``derive_seed(student.seed, label)``, with the distributions of ``make_problem``;
the shapes, lr and steps are fixed and public. Each part has several cases (float64 and float32,
or several inputs) and earns partial credit per case. Tolerances are the public ones of
``fromscratch.rules`` (stated in the notebook's Rules cell).

Each function is graded on its own. ``forward`` passes if it composes the student's own sigmoid
correctly. When the student's ``sigmoid`` fails its own part, ``gradients`` is also compared with
the hand-derived gradients computed with the student's sigmoid values H (σ′ = H(1 − H), the
notebook's formula), and ``train`` with gradient descent through the student's sigmoid: its values
from the sandbox, its derivative by central differences (h = 1e-5 on float64 inputs: truncation
error h²·|f‴|/6 ≈ 1e-11 for a smooth f, rounding error u/h ≈ 1e-11, far below 1e-9). ``train``
calls the student's ``forward`` and ``mse_loss``, so a wrong ``forward`` or ``mse_loss`` still
costs it: the message says which one to fix first.

Taught in: the problem sets (Exercises part), ps3_mlp_gd.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    StudentError,
    cases_check,
    derive_seed,
    seed_of,
)
from fromscratch.rules import PS3 as RULES

SHORTCUT_HINTS = {
    "autograd": "derive dW1, db1, dW2 and db2 by hand with the chain rule (section 3 of the"
    " notebook); autograd belongs in train only",
    "reference": "write the functions yourself (the course's own packages are not part of the"
    " exercise)",
}

N, D, H, O = 7, 5, 4, 3  # noqa: E741  (n, d, h, o as in the statement)
TOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
SIGMOID_ATOL = {
    torch.float32: RULES.tolerances["sigmoid_atol_float32"],
    torch.float64: RULES.tolerances["sigmoid_atol_float64"],
}
LR, STEPS = 0.5, 6
# Seconds per call. The functions take milliseconds, but a first call that imports torch.optim or
# runs autograd's first backward pass can take seconds on a loaded grading machine; a function
# that hangs costs at most one time-out per part (``cases_check`` stops after one).
CALL_TIMEOUT = 30.0
PARAM_NAMES = ("W1", "b1", "W2", "b2")
GRAD_NAMES = ("dW1", "db1", "dW2", "db2")


def _dt(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def _rel(x: torch.Tensor, y: torch.Tensor) -> float:
    """‖x − y‖ / ‖y‖ in float64 (∞ if y is zero and x is not)."""
    x, y = x.detach().to(torch.float64), y.detach().to(torch.float64)
    denom = float(torch.linalg.norm(y))
    diff = float(torch.linalg.norm(x - y))
    if denom == 0.0:
        return 0.0 if diff == 0.0 else math.inf
    return diff / denom


def _close(x: object, y: torch.Tensor, dtype: torch.dtype) -> bool:
    return (
        isinstance(x, torch.Tensor)
        and x.shape == y.shape
        and bool(torch.isfinite(x).all())
        and _rel(x, y) <= TOL[dtype]
    )


# ---------------------------------------------------------------------------------------------
# Test inputs (seeded, built here) and trusted references.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One hidden test problem: data and parameters, in one dtype."""

    x: torch.Tensor  # (n, d) or (d,)
    y: torch.Tensor  # (n, o) or (o,)
    W1: torch.Tensor  # (h, d)
    b1: torch.Tensor  # (h,)
    W2: torch.Tensor  # (o, h)
    b2: torch.Tensor  # (o,)

    @property
    def params(self) -> tuple[torch.Tensor, ...]:
        return (self.W1, self.b1, self.W2, self.b2)

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    def describe(self) -> str:
        if self.x.dim() == 1:
            return f"a single example x of shape {_shape(self.x)} ({_dt(self.dtype)})"
        return f"a batch x of shape {_shape(self.x)} ({_dt(self.dtype)})"


def make_problem(seed: int, dtype: torch.dtype, *, single: bool = False) -> Problem:
    """x ~ N(0, 1), W ~ N(0, 1.5²/fan_in), b ~ N(0, 0.5²), y ~ N(0, 1): pre-activations of order 1,
    where σ′ is far from 0, so every term of the gradient matters."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).to(dtype)

    x = randn(D) if single else randn(N, D)
    y = randn(O) if single else randn(N, O)
    return Problem(
        x=x,
        y=y,
        W1=randn(H, D, scale=1.5 / math.sqrt(D)),
        b1=randn(H, scale=0.5),
        W2=randn(O, H, scale=1.5 / math.sqrt(H)),
        b2=randn(O, scale=0.5),
    )


def ref_forward(x, W1, b1, W2, b2, sigma: Callable = torch.sigmoid) -> torch.Tensor:
    z = x @ W1.T + b1  # (n, d) @ (d, h) -> (n, h)
    return sigma(z) @ W2.T + b2  # (n, h) @ (h, o) -> (n, o)


def ref_loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((pred - y) ** 2).mean()


def ref_gradients(p: Problem) -> tuple[torch.Tensor, ...]:
    """(dW1, db1, dW2, db2) by autograd, in float64."""
    params = [t.detach().to(torch.float64).requires_grad_(True) for t in p.params]
    loss = ref_loss(ref_forward(p.x.to(torch.float64), *params), p.y.to(torch.float64))
    return tuple(torch.autograd.grad(loss, params))


def hidden_candidates(p: Problem) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(dW1, db1) for a correct output layer but a wrong σ′: the usual slips, named."""
    x, y = p.x.to(torch.float64), p.y.to(torch.float64)
    W1, b1, W2, b2 = (t.to(torch.float64) for t in p.params)
    xb = x.reshape(-1, D)  # (n, d)
    z = xb @ W1.T + b1  # (n, h)
    h = torch.sigmoid(z)
    pred = h @ W2.T + b2  # (n, o)
    g_pred = 2 * (pred - y.reshape(pred.shape)) / pred.numel()  # (n, o)
    g_h = g_pred @ W2  # (n, o) @ (o, h) -> (n, h)
    variants = {
        "no σ′": g_h,
        "σ′ = σ(σ(z))(1 − σ(σ(z)))": g_h * torch.sigmoid(h) * (1 - torch.sigmoid(h)),
        "σ′ = z(1 − z)": g_h * z * (1 - z),
        "σ′ = σ(z)": g_h * h,
        "σ′ = 1 − σ(z)": g_h * (1 - h),
    }
    return {name: (g_z.T @ xb, g_z.sum(0)) for name, g_z in variants.items()}


SIGMOID_MESSAGES = {
    "no σ′": "dW1 and db1 miss the sigmoid derivative: multiply by σ′(z) = σ(z)(1 − σ(z)) "
    "after backpropagating through W2",
    "σ′ = σ(σ(z))(1 − σ(σ(z)))": "σ′ is evaluated at the hidden activations H = σ(Z) instead of "
    "at Z: σ′(Z) = H(1 − H), without applying sigmoid again",
    "σ′ = z(1 − z)": "σ′ uses the pre-activation z: σ′(z) = σ(z)(1 − σ(z)), not z(1 − z)",
    "σ′ = σ(z)": "σ′(z) is σ(z)(1 − σ(z)); the factor (1 − σ(z)) is missing",
    "σ′ = 1 − σ(z)": "σ′(z) is σ(z)(1 − σ(z)); the factor σ(z) is missing",
}


@dataclass(frozen=True)
class Trajectory:
    losses: list[float]  # the loss before each of the `steps` updates
    after: list[float]  # the loss after each update
    params: tuple[torch.Tensor, ...]  # after the last update


def ref_train(
    p: Problem, lr: float, steps: int, *, mode: str = "gd", sigma: Callable = torch.sigmoid
) -> Trajectory:
    """Gradient descent by autograd in float64. ``mode``: "gd" (right), "accumulate" (never
    zeroing .grad), "ascent" (θ += lr·g). ``sigma``: the activation (the student's own one,
    ``own_sigmoid``, when theirs fails its part)."""
    params = [t.detach().to(torch.float64).clone().requires_grad_(True) for t in p.params]
    x, y = p.x.to(torch.float64), p.y.to(torch.float64)
    acc = [torch.zeros_like(t) for t in params]
    losses, after = [], []
    for _ in range(steps):
        loss = ref_loss(ref_forward(x, *params, sigma=sigma), y)
        losses.append(float(loss.detach()))
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for t, g, a in zip(params, grads, acc, strict=True):
                a += g
                step = a if mode == "accumulate" else g
                t += lr * step if mode == "ascent" else -lr * step
            after.append(float(ref_loss(ref_forward(x, *params, sigma=sigma), y)))
    return Trajectory(losses, after, tuple(t.detach() for t in params))


# ---------------------------------------------------------------------------------------------
# Calls into the sandbox, with the situation named on failure.
# ---------------------------------------------------------------------------------------------


def _raised(text: str) -> bool:
    """True if a StudentError says the function ran and raised (not: missing, unreadable, ...)."""
    return " raised " in text


def _call(student, name: str, *args, where: str, hint: str = "", **kwargs):
    """``student.call``, naming the situation on failure; ``hint`` is added if the call raised."""
    try:
        return student.call(name, *args, timeout=CALL_TIMEOUT, **kwargs)
    except StudentError as exc:
        text = str(exc).strip()
        text = text if text.endswith(".") else text + "."
        raise StudentError(f"For {where}: {text}{hint if _raised(text) else ''}") from None


_HEALTH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ok(student, name: str) -> bool:
    """Whether the student's ``name`` (sigmoid, forward or mse_loss) passes its own part,
    memoised per student: used to point a failing later part at the upstream part that fails."""
    try:
        cache = _HEALTH.setdefault(student, {})
    except TypeError:  # a student object without weak references: recompute
        cache = {}
    if name not in cache:
        problem = {
            "sigmoid": sigmoid_problem,
            "forward": forward_batch_problem,
            "mse_loss": mse_problem,
        }[name]
        try:
            cache[name] = problem(student) is None
        except GradingFailure:
            cache[name] = False
    return cache[name]


def _upstream(student, names: tuple[str, ...]) -> str:
    bad = [n for n in names if not _ok(student, n)]
    if not bad:
        return ""
    if len(bad) == 1:
        return f" Note: your {bad[0]} fails its own part; fix that first."
    listed = ", ".join(bad[:-1]) + " and " + bad[-1]
    return f" Note: your {listed} fail their own parts; fix those first."


# ---------------------------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------------------------

PUBLIC_Z = (0.0, 5.0, -5.0, 2.0, -1.0, 0.5)


def _sigmoid_inputs(dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(derive_seed(seed, f"sigmoid/{_dt(dtype)}"))
    rand = 3 * torch.randn(6, generator=g, dtype=torch.float64)
    return torch.cat([torch.tensor(PUBLIC_Z, dtype=torch.float64), rand]).reshape(3, 4).to(dtype)


def _at(values: torch.Tensor, z: torch.Tensor, point: float) -> float:
    """The value at the first position where z == point."""
    idx = (z.reshape(-1) == point).nonzero()[0, 0]
    return float(values.reshape(-1)[idx])


def sigmoid_case(student, dtype: torch.dtype) -> str | None:
    """Values at public and hidden points, shape and dtype kept."""
    z = _sigmoid_inputs(dtype, seed_of(student))
    where = f"a {_dt(dtype)} tensor z of shape {_shape(z)}"
    out = _call(student, "sigmoid", z, where=where)
    if not isinstance(out, torch.Tensor):
        return f"For {where}, sigmoid returned {type(out).__name__}; expected a tensor."
    if out.shape != z.shape:
        return (
            f"For {where}, sigmoid returned shape {_shape(out)}; it acts elementwise, so the"
            f" result has the shape of z."
        )
    if out.dtype != dtype:
        return f"For {where}, sigmoid returned {_dt(out.dtype)}; keep the dtype of z."
    exact = torch.sigmoid(z.to(torch.float64))
    if torch.isfinite(out).all() and (out.double() - exact).abs().max() <= SIGMOID_ATOL[dtype]:
        return None
    at5, at0 = _at(out, z, 5.0), _at(out, z, 0.0)
    if abs(at5 - 1 / (1 + math.exp(5))) < 1e-4:
        return (
            f"sigmoid(5) should be ≈ 0.993, you returned ≈ {at5:.2g}: check the sign of the"
            " exponent, σ(z) = 1/(1 + e^(−z))."
        )
    if abs(at0 - 0.5) > 1e-4:
        return f"sigmoid(0) should be 0.5, you returned {at0:.4g}: σ(z) = 1/(1 + e^(−z))."
    return (
        f"sigmoid(5) should be ≈ 0.993, you returned ≈ {at5:.4g}; for {where} some values"
        " are off: σ(z) = 1/(1 + e^(−z)) elementwise."
    )


def sigmoid_problem(student) -> str | None:
    """The first failing sigmoid case (float64, then float32), or None."""
    for dtype in (torch.float64, torch.float32):
        msg = sigmoid_case(student, dtype)
        if msg:
            return msg
    return None


STABLE_Z = (-1000.0, -200.0, -90.0, -30.0, 0.0, 30.0, 90.0, 200.0, 1000.0)


def sigmoid_stable_case(student, dtype: torch.dtype) -> str | None:
    z = torch.tensor(STABLE_Z, dtype=dtype)
    where = f"{_dt(dtype)} inputs with |z| up to 1000"
    out = _call(student, "sigmoid", z, where=where)
    if not isinstance(out, torch.Tensor) or out.shape != z.shape:
        return f"For {where}, sigmoid must return a tensor of the shape of z."
    bad = [s for s, v in zip(STABLE_Z, out.tolist(), strict=True) if not math.isfinite(v)]
    if bad:
        s = bad[0]
        kind = "nan" if math.isnan(out.tolist()[STABLE_Z.index(s)]) else "inf"
        return (
            f"sigmoid({s:g}) returned {kind} ({_dt(dtype)}): e^{abs(s):g} overflows to inf, and"
            " e^z/(1 + e^z) then gives inf/inf = nan. Only ever exponentiate a non-positive"
            " number: 1/(1 + e^(−z)) for z ≥ 0 and e^z/(1 + e^z) for z < 0, e.g. with"
            " t = exp(−|z|)."
        )
    exact = torch.sigmoid(z.to(torch.float64))
    if (out.double() - exact).abs().max() > SIGMOID_ATOL[dtype]:
        worst = int((out.double() - exact).abs().argmax())
        return (
            f"sigmoid({STABLE_Z[worst]:g}) returned {out.tolist()[worst]:.4g} ({_dt(dtype)});"
            f" it should be ≈ {float(exact[worst]):.4g} (σ tends to 0 and 1 at the extremes)."
        )
    return None


def _raise(msg: str | None) -> None:
    if msg:
        raise GradingFailure(msg)


def _cases(student, problem, *variants):
    """One case per variant: ``problem(student, *variant)`` must return None."""
    return [lambda v=v: _raise(problem(student, *v)) for v in variants]


def sigmoid_values_cases(student):
    """sigmoid at known points, elementwise on a 2-D tensor, float64 and float32."""
    return _cases(student, sigmoid_case, (torch.float64,), (torch.float32,))


def sigmoid_stable_cases(student):
    """No nan or inf for |z| up to 1000, with the right limits 0 and 1."""
    return _cases(student, sigmoid_stable_case, (torch.float32,), (torch.float64,))


# ---------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------

FORWARD_HINT = (
    " W1 has shape (h, d) and W2 (o, h) (the nn.Linear convention), so the layers are"
    " x @ W1.T + b1 and h @ W2.T + b2."
)


def _forward_problem(student, p: Problem) -> str | None:
    where = p.describe()
    try:
        out = student.call("forward", p.x, *p.params, timeout=CALL_TIMEOUT)
    except StudentError as exc:
        text = str(exc).strip().rstrip(".") + "."
        if _raised(text) and ("multipl" in text or "size mismatch" in text or "must match" in text):
            text += FORWARD_HINT
        raise StudentError(f"For {where}: {text}") from None
    expected = ref_forward(*(t.to(torch.float64) for t in (p.x, *p.params)))
    if not isinstance(out, torch.Tensor):
        return f"For {where}, forward returned {type(out).__name__}; expected a tensor."
    if out.shape != expected.shape:
        msg = f"For {where}, forward returned shape {_shape(out)}; expected {_shape(expected)}."
        if p.x.dim() == 1 and out.shape == (1, *expected.shape):
            msg += " For a single example x of shape (d,) return shape (o,), not (1, o)."
        elif out.dim() == 2 and out.shape == expected.shape[::-1]:
            msg += " That is the transpose: compute x @ W1.T (rows are examples), not W1 @ x.T."
        return msg
    if out.dtype != p.dtype:
        return f"For {where}, forward returned {_dt(out.dtype)}; keep the dtype of x."
    if _close(out, expected, p.dtype):
        return None
    # Graded on its own: a forward that composes the student's own (wrong) sigmoid correctly
    # keeps its points; the sigmoid part already took them.
    if not _ok(student, "sigmoid"):
        z = p.x @ p.W1.T + p.b1  # (n, h)
        try:
            s = student.call("sigmoid", z, timeout=CALL_TIMEOUT)
        except GradingFailure:
            s = None
        if isinstance(s, torch.Tensor) and s.shape == z.shape:
            own = s.to(torch.float64) @ p.W2.T.to(torch.float64) + p.b2.to(torch.float64)
            if _close(out, own, p.dtype):
                return None
    x, W1, b1, W2, b2 = (t.to(torch.float64) for t in (p.x, *p.params))
    named = {
        "there is no sigmoid between the layers: forward is σ(x W1ᵀ + b1) W2ᵀ + b2": (
            (x @ W1.T + b1) @ W2.T + b2
        ),
        "the sigmoid is applied to the output too: the output layer is linear, σ(x W1ᵀ + b1)"
        " W2ᵀ + b2": torch.sigmoid(ref_forward(x, W1, b1, W2, b2)),
        "b1 is missing: the hidden layer is σ(x W1ᵀ + b1)": ref_forward(x, W1, 0 * b1, W2, b2),
        "b2 is missing: the output is σ(x W1ᵀ + b1) W2ᵀ + b2": ref_forward(x, W1, b1, W2, 0 * b2),
        "b1 is added after the sigmoid: σ(x W1ᵀ + b1), not σ(x W1ᵀ) + b1": (
            (torch.sigmoid(x @ W1.T) + b1) @ W2.T + b2
        ),
    }
    for why, candidate in named.items():
        if _close(out, candidate, p.dtype):
            return f"For {where}, {why}."
    return f"For {where}, forward's output is wrong: σ(x W1ᵀ + b1) W2ᵀ + b2." + _upstream(
        student, ("sigmoid",)
    )


def _problem(student, label: str, dtype: torch.dtype, *, single: bool = False) -> Problem:
    """The hidden problem ``label`` for this submission (seeded by ``student.seed``)."""
    return make_problem(derive_seed(seed_of(student), label), dtype, single=single)


def _forward_case(student, label: str, dtype: torch.dtype, single: bool) -> str | None:
    return _forward_problem(student, _problem(student, label, dtype, single=single))


FORWARD_BATCH = (
    ("forward_batch/0", torch.float64, False),
    ("forward_batch/1", torch.float32, False),
)
FORWARD_SINGLE = (
    ("forward_single/0", torch.float64, True),
    ("forward_single/1", torch.float32, True),
)


def forward_batch_problem(student) -> str | None:
    for variant in FORWARD_BATCH:
        msg = _forward_case(student, *variant)
        if msg:
            return msg
    return None


def forward_batch_cases(student):
    """forward on a batch x (n, d): output (n, o), float64 and float32."""
    return _cases(student, _forward_case, *FORWARD_BATCH)


def forward_single_cases(student):
    """forward on a single example x (d,): output (o,)."""
    return _cases(student, _forward_case, *FORWARD_SINGLE)


# ---------------------------------------------------------------------------------------------
# mse_loss
# ---------------------------------------------------------------------------------------------


def _mse_inputs(seed: int, dtype: torch.dtype, shape: tuple[int, ...]):
    g = torch.Generator().manual_seed(seed)  # seed: derive_seed(student.seed, label)
    pred = torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
    y = torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
    return pred, y


MSE_CASES = (
    ("mse/0", torch.float64, (N, O)),
    ("mse/1", torch.float32, (N, O)),
    ("mse/2", torch.float64, (O,)),
)


def mse_problem(student) -> str | None:
    for variant in MSE_CASES:
        msg = mse_case(student, *variant)
        if msg:
            return msg
    return None


def mse_case(student, label: str, dtype: torch.dtype, shape: tuple[int, ...]) -> str | None:
    pred, y = _mse_inputs(derive_seed(seed_of(student), label), dtype, shape)
    where = f"pred and y of shape {shape} ({_dt(dtype)})"
    out = _call(student, "mse_loss", pred, y, where=where)
    if isinstance(out, float):
        return (
            f"For {where}, mse_loss returned a Python float; return a tensor (train calls"
            " .backward() on it, so do not use .item() here)."
        )
    if not isinstance(out, torch.Tensor):
        return f"For {where}, mse_loss returned {type(out).__name__}; expected a 0-dim tensor."
    if out.numel() != 1:
        return (
            f"For {where}, mse_loss returned shape {_shape(out)}; expected a single number"
            " (a 0-dim tensor): average over ALL entries, not along one dimension."
        )
    value = float(out.reshape(()))
    exact = float(ref_loss(pred.double(), y.double()))
    if math.isfinite(value) and abs(value - exact) <= TOL[dtype] * exact:
        return None
    n_entries = pred.numel()
    ratio = value / exact
    diffs = (pred.double() - y.double()).reshape(-1)
    known = {
        float(n_entries): f"it is the SUM of the squared errors, {n_entries}× the mean: "
        "divide by the number of entries, pred.numel()",
        0.5: "it is half the mean: the loss has no factor 1/2 here",
    }
    if len(shape) == 2:
        known[float(shape[1])] = (
            f"it is {shape[1]}× the mean: you divided by n = {shape[0]} only; the mean runs"
            f" over all n·o = {n_entries} entries"
        )
        known[float(shape[0])] = (
            f"it is {shape[0]}× the mean: you divided by o = {shape[1]} only; the mean runs"
            f" over all n·o = {n_entries} entries"
        )
    for factor, why in known.items():
        if abs(ratio - factor) <= 1e-3 * factor:
            return f"For {where}, mse_loss is wrong: {why}."
    if abs(value - float(diffs.abs().mean())) <= 1e-4 * abs(value):
        return f"For {where}, mse_loss is the mean ABSOLUTE error; square the differences."
    if abs(value - math.sqrt(exact)) <= 1e-4 * math.sqrt(exact):
        return f"For {where}, mse_loss is the square root of the MSE; do not take the root."
    return f"For {where}, mse_loss is off by a factor {ratio:.3g}: mean((pred − y)²)."
    return None


def mse_cases(student):
    """mse_loss is the mean of the squared errors over all entries, as a tensor."""
    return _cases(student, mse_case, *MSE_CASES)


# ---------------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------------

SCALE_MESSAGES = {
    0.5: "is half the true gradient: the square contributes a factor 2, "
    "d(pred − y)²/dpred = 2(pred − y)",
    2.0: "is twice the true gradient: there is one factor 2 too many",
    -1.0: "has the wrong sign: dL/dpred = 2(pred − y)/(n·o), not 2(y − pred)/(n·o)",
}


def _scale_messages(n: int) -> dict[float, str]:
    msgs = dict(SCALE_MESSAGES)
    no = n * O
    msgs[float(no)] = (
        f"is n·o = {no} times the true gradient: the loss is the MEAN over the n·o entries, so"
        f" dL/dpred = 2(pred − y)/(n·o) (you differentiated the sum)"
    )
    msgs[no / 2] = (
        f"is n·o/2 = {no / 2:g} times the true gradient: divide by n·o (the loss is a mean) and"
        " keep the factor 2 from the square"
    )
    msgs[float(no * 2)] = f"is 2·n·o = {2 * no} times the true gradient: the loss is a mean"
    if n > 1:
        msgs[float(O)] = (
            f"is o = {O} times the true gradient: divide by n·o = {no}, not by n = {n} only"
        )
        msgs[float(n)] = (
            f"is n = {n} times the true gradient: divide by n·o = {no}, not by o = {O} only"
        )
        msgs[1.0 / n] = (
            f"is 1/n = 1/{n} of the true gradient: sum over the batch (the 1/(n·o) is already in"
            " dL/dpred), do not average again"
        )
    return msgs


def _scale_of(got: torch.Tensor, true: torch.Tensor, dtype: torch.dtype) -> float | None:
    """c if got ≈ c·true (least squares), else None."""
    g, t = got.to(torch.float64).reshape(-1), true.to(torch.float64).reshape(-1)
    tt = float(t @ t)
    if tt == 0.0:
        return None
    c = float(g @ t) / tt
    if c != 0.0 and _rel(g, c * t) <= 10 * TOL[dtype]:
        return c
    return None


def _grad_problem(
    name: str,
    got: object,
    true: torch.Tensor,
    p: Problem,
    candidates: dict[str, torch.Tensor],
) -> str | None:
    """Diagnose one returned gradient against autograd's (``true``), in the student's terms."""
    where = p.describe()
    param = PARAM_NAMES[GRAD_NAMES.index(name)]
    n = 1 if p.x.dim() == 1 else N
    if not isinstance(got, torch.Tensor):
        return (
            f"For {where}, {name} is {type(got).__name__}; expected a tensor shaped like {param}."
        )
    if got.shape != true.shape:
        msg = (
            f"For {where}, {name} has shape {_shape(got)}, expected {_shape(true)} = {param}.shape."
        )
        if got.dim() == 2 and got.shape == true.shape[::-1] and _close(got.T, true, p.dtype):
            if name == "dW1":
                msg += " It is the transpose: dW1 = (dL/dZ)ᵀ x is (h, n) @ (n, d)."
            else:
                msg += " It is the transpose: dW2 = (dL/dpred)ᵀ H is (o, n) @ (n, h)."
        elif got.dim() == 2 and true.dim() == 1 and got.shape[-1] == true.shape[0]:
            msg += (
                " Sum the per-example gradients over the batch dimension 0 (without keepdim):"
                " the bias is shared by every example."
            )
        return msg
    if not bool(torch.isfinite(got).all()):
        return f"For {where}, {name} contains nan or inf."
    if _close(got, true, p.dtype):
        return None
    for why, candidate in candidates.items():
        if _close(got, candidate, p.dtype):
            return f"For {where}, {why}."
    scale = _scale_of(got, true, p.dtype)
    if scale is not None:
        for factor, why in _scale_messages(n).items():
            if abs(scale - factor) <= 1e-3 * abs(factor):
                return f"For {where}, {name} {why}."
        return f"For {where}, {name} is {scale:.3g} times the true gradient."
    for why, candidate in candidates.items():
        c = _scale_of(got, candidate, p.dtype)
        if c is not None:
            return f"For {where}, {why} (and {name} is also off by a factor {c:.3g})."
    return f"For {where}, {name} differs from the true gradient (compared with autograd)."


def _gradients(student, p: Problem) -> tuple[object, ...]:
    where = p.describe()
    hint = ""
    if p.x.dim() == 1:
        hint = (
            " Handle x of shape (d,) and y of shape (o,), e.g. by treating them as a batch of one:"
            " x.reshape(1, -1) and y.reshape(1, -1)."
        )
    out = _call(student, "gradients", p.x, p.y, *p.params, where=where, hint=hint)
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        got = f"{type(out).__name__}" + (
            f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        )
        raise GradingFailure(
            f"For {where}, gradients returned {got}; expected the tuple (dW1, db1, dW2, db2)."
        )
    return tuple(out)


class _Unusable(Exception):
    """The student's sigmoid cannot stand in for σ (it raised, or returned no finite tensor)."""


FD_STEP = 1e-5  # central differences of the student's sigmoid (float64): see the docstring


def own_sigmoid(student) -> Callable | None:
    """The student's sigmoid as a float64 function usable in the references, or None if their
    sigmoid passes its own part (then torch.sigmoid is the reference)."""
    if _ok(student, "sigmoid"):
        return None

    def values(z: torch.Tensor) -> torch.Tensor:
        try:
            s = student.call("sigmoid", z.detach().to(torch.float64), timeout=CALL_TIMEOUT)
        except GradingFailure:
            raise _Unusable from None
        if not isinstance(s, torch.Tensor) or s.shape != z.shape or not torch.isfinite(s).all():
            raise _Unusable
        return s.to(torch.float64)

    class Own(torch.autograd.Function):
        """σ = the student's sigmoid; σ′ by central differences (what autograd through it gives,
        up to the differencing error)."""

        @staticmethod
        def forward(ctx, z):  # noqa: ANN001, ANN205
            s = values(z)
            d = (values(z + FD_STEP) - values(z - FD_STEP)) / (2 * FD_STEP)
            ctx.save_for_backward(d)
            return s

        @staticmethod
        def backward(ctx, grad):  # noqa: ANN001, ANN205
            (d,) = ctx.saved_tensors
            return grad * d

    def sigma(z: torch.Tensor) -> torch.Tensor:
        return Own.apply(z)

    sigma.values = values  # type: ignore[attr-defined]
    return sigma


def own_gradients(p: Problem, values: Callable) -> tuple[torch.Tensor, ...]:
    """(dW1, db1, dW2, db2) by the notebook's formulas with H = the student's sigmoid values and
    σ′ = H(1 − H), in float64."""
    x, y = p.x.to(torch.float64).reshape(-1, D), p.y.to(torch.float64).reshape(-1, O)
    W1, b1, W2, b2 = (t.to(torch.float64) for t in p.params)
    h = values(x @ W1.T + b1)  # (n, d) @ (d, h) -> (n, h)
    pred = h @ W2.T + b2  # (n, h) @ (h, o) -> (n, o)
    g_pred = 2 * (pred - y) / pred.numel()  # (n, o)
    g_z = (g_pred @ W2) * h * (1 - h)  # (n, o) @ (o, h) -> (n, h)
    return g_z.T @ x, g_z.sum(0), g_pred.T @ h, g_pred.sum(0)


def gradients_case(student, label: str, dtype: torch.dtype, single: bool, names) -> str | None:
    p = _problem(student, label, dtype, single=single)
    got = dict(zip(GRAD_NAMES, _gradients(student, p), strict=True))
    true = dict(zip(GRAD_NAMES, ref_gradients(p), strict=True))
    own: dict[str, torch.Tensor] = {}
    sigma = own_sigmoid(student)
    if sigma is not None:
        try:
            own = dict(zip(GRAD_NAMES, own_gradients(p, sigma.values), strict=True))
        except _Unusable:
            own = {}
    hidden = hidden_candidates(p)
    for name in names:
        if name in own and _close(got[name], own[name], p.dtype):
            continue  # right, given the student's own sigmoid (graded in its own parts)
        candidates: dict[str, torch.Tensor] = {}
        if name in ("dW1", "db1"):
            i = 0 if name == "dW1" else 1
            candidates = {SIGMOID_MESSAGES[k]: v[i] for k, v in hidden.items()}
        msg = _grad_problem(name, got[name], true[name], p, candidates)
        if msg:
            return msg + _upstream(student, ("sigmoid", "forward"))
    return None


GRAD_BATCH = (("gradients/0", torch.float64, False), ("gradients/1", torch.float32, False))


def gradients_output_cases(student):
    """dW2 and db2 on a batch, float64 and float32, against autograd."""
    return _cases(student, gradients_case, *[(*v, ("dW2", "db2")) for v in GRAD_BATCH])


def gradients_hidden_cases(student):
    """dW1 and db1 on a batch, float64 and float32, against autograd."""
    return _cases(student, gradients_case, *[(*v, ("dW1", "db1")) for v in GRAD_BATCH])


def gradients_single_cases(student):
    """All four gradients for a single example x (d,), y (o,)."""
    return _cases(student, gradients_case, ("gradients_single/0", torch.float64, True, GRAD_NAMES))


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------


TRAIN_CASES = (("train/0", torch.float64), ("train/1", torch.float32))

_OWN_TRAIN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _own_trajectory(student, label: str, p: Problem) -> Trajectory | None:
    """Gradient descent through the student's own sigmoid (None if theirs passes its part or
    cannot be used), memoised per student and case."""
    sigma = own_sigmoid(student)
    if sigma is None:
        return None
    try:
        cache = _OWN_TRAIN.setdefault(student, {})
    except TypeError:
        cache = {}
    if label not in cache:
        try:
            cache[label] = ref_train(p, LR, STEPS, sigma=sigma)
        except _Unusable:
            cache[label] = None
    return cache[label]


def _run_train(student, p: Problem):
    params = tuple(t.clone().requires_grad_(True) for t in p.params)
    where = f"{p.describe()}, lr = {LR} and steps = {STEPS}"
    try:
        result, args_after = student.call(
            "train", p.x, p.y, *params, LR, STEPS, return_args=True, timeout=CALL_TIMEOUT
        )
    except StudentError as exc:
        text = str(exc).strip().rstrip(".") + "."
        if not _raised(text):
            raise StudentError(f"For {where}: {text}") from None
        hint = ""
        if "does not require grad" in text or "NoneType" in text:
            hint = (
                " Update the tensors you were given in place, inside torch.no_grad():"
                " `W1 -= lr * W1.grad` (writing `W1 = W1 - lr * W1.grad` makes a new tensor"
                " that autograd no longer tracks), or use torch.optim.SGD."
            )
        upstream = _upstream(student, ("sigmoid", "forward", "mse_loss"))
        raise StudentError(f"For {where}: {text}{hint}{upstream}") from None
    return where, result, tuple(args_after[2:6])


def _same_losses(got: list[float], ref: list[float], dtype: torch.dtype) -> bool:
    if len(got) != len(ref):
        return False
    a, b = torch.tensor(got, dtype=torch.float64), torch.tensor(ref, dtype=torch.float64)
    return bool(torch.isfinite(a).all()) and _rel(a, b) <= TOL[dtype]


def _same_params(got: tuple, ref: tuple[torch.Tensor, ...], dtype: torch.dtype) -> bool:
    return all(_close(g, r, dtype) for g, r in zip(got, ref, strict=True))


def _as_floats(result: object) -> list[float] | None:
    if isinstance(result, (list, tuple)) and all(isinstance(v, float) for v in result):
        return [float(v) for v in result]
    return None


ACCUMULATE = (
    "gradients accumulated across steps: zero them each step (p.grad = None or p.grad.zero_(),"
    " or optimizer.zero_grad()); backward() ADDS to .grad"
)


def train_losses_case(student, label: str, dtype: torch.dtype) -> str | None:
    for p in (_problem(student, label, dtype),):
        where, result, _ = _run_train(student, p)
        ref = ref_train(p, LR, STEPS)
        if isinstance(result, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in result):
            return (
                f"For {where}, train returned a list of tensors; return Python floats"
                " (loss.item() for each step)."
            )
        losses = _as_floats(result)
        if losses is None:
            return (
                f"For {where}, train returned {type(result).__name__}; expected a list of"
                f" {STEPS} Python floats, one loss per step."
            )
        if len(losses) != STEPS:
            return (
                f"For {where}, train returned {len(losses)} losses; expected one per step, {STEPS}."
            )
        if _same_losses(losses, ref.losses, p.dtype):
            continue
        own = _own_trajectory(student, label, p)
        if own is not None and _same_losses(losses, own.losses, p.dtype):
            continue  # right, given the student's own sigmoid (graded in its own parts)
        if _same_losses(losses, ref.after, p.dtype):
            return (
                f"For {where}, each loss is computed after its update: record the loss of the"
                " current parameters first, then update them."
            )
        if _same_losses(losses, ref_train(p, LR, STEPS, mode="accumulate").losses, p.dtype):
            return f"For {where}, {ACCUMULATE}."
        if _same_losses(losses, ref_train(p, LR, STEPS, mode="ascent").losses, p.dtype):
            return (
                f"For {where}, the loss grows: the update adds lr·grad; gradient descent"
                " subtracts it, θ ← θ − lr·∇L."
            )
        first_ok = abs(losses[0] - ref.losses[0]) <= TOL[p.dtype] * ref.losses[0]
        if first_ok and all(abs(v - losses[0]) <= 1e-12 * abs(losses[0]) for v in losses):
            return (
                f"For {where}, the loss never changes: the parameters are not updated (update"
                " the tensors you were given, in place, after backward())."
            )
        if not first_ok:
            return (
                f"For {where}, the first loss is not the loss of the initial parameters,"
                " mse_loss(forward(x, W1, b1, W2, b2), y)."
                + _upstream(student, ("sigmoid", "forward", "mse_loss"))
            )
        return (
            f"For {where}, the first loss is right but later ones differ from plain gradient"
            " descent θ ← θ − lr·∇L."
        )
    return None


def train_updates_case(student, label: str, dtype: torch.dtype) -> str | None:
    for p in (_problem(student, label, dtype),):
        where, _, after = _run_train(student, p)
        ref = ref_train(p, LR, STEPS)
        if _same_params(after, ref.params, p.dtype):
            continue
        own = _own_trajectory(student, label, p)
        if own is not None and _same_params(after, own.params, p.dtype):
            continue  # right, given the student's own sigmoid (graded in its own parts)
        unchanged = all(
            isinstance(g, torch.Tensor) and torch.equal(g, t)
            for g, t in zip(after, p.params, strict=True)
        )
        if unchanged:
            return (
                f"For {where}, the parameters you were given are unchanged. Update them IN PLACE"
                " (`with torch.no_grad(): W1 -= lr * W1.grad`, or torch.optim.SGD), not by"
                " rebinding the name (`W1 = W1 - lr * W1.grad`); and clear .grad before"
                " backward(), not between backward() and the update."
            )
        if _same_params(after, ref_train(p, LR, STEPS, mode="accumulate").params, p.dtype):
            return f"For {where}, {ACCUMULATE}."
        if _same_params(after, ref_train(p, LR, STEPS, mode="ascent").params, p.dtype):
            return f"For {where}, the update adds lr·grad; gradient descent subtracts it."
        for k in (STEPS - 1, STEPS + 1):
            if _same_params(after, ref_train(p, LR, k).params, p.dtype):
                return f"For {where}, the parameters took {k} gradient steps; expected {STEPS}."
        return (
            f"For {where}, after train the parameters differ from {STEPS} steps of gradient"
            " descent θ ← θ − lr·∇L." + _upstream(student, ("sigmoid", "forward", "mse_loss"))
        )
    return None


def train_losses_cases(student):
    """train returns `steps` Python floats: the loss before each update of plain GD."""
    return _cases(student, train_losses_case, *TRAIN_CASES)


def train_updates_cases(student):
    """train updates the given tensors in place, to the parameters after `steps` GD steps."""
    return _cases(student, train_updates_case, *TRAIN_CASES)


PARTIAL = RULES.partial_credit_per_case
CHECKS = [
    cases_check(gid, points, description, cases, partial=PARTIAL)
    for gid, points, description, cases in (
        (
            "ps3_sigmoid_values",
            1,
            "sigmoid values, elementwise, float32 and float64",
            sigmoid_values_cases,
        ),
        (
            "ps3_sigmoid_stable",
            1,
            "sigmoid gives no nan or inf for |z| up to 1000",
            sigmoid_stable_cases,
        ),
        ("ps3_forward_batch", 2, "forward on a batch x of shape (n, d)", forward_batch_cases),
        (
            "ps3_forward_single",
            1,
            "forward on a single example x of shape (d,)",
            forward_single_cases,
        ),
        (
            "ps3_mse_loss",
            2,
            "mse_loss is the mean of the squared errors over all entries",
            mse_cases,
        ),
        (
            "ps3_gradients_output",
            3,
            "gradients: dW2 and db2 on a batch, against autograd",
            gradients_output_cases,
        ),
        (
            "ps3_gradients_hidden",
            4,
            "gradients: dW1 and db1 on a batch, against autograd",
            gradients_hidden_cases,
        ),
        (
            "ps3_gradients_single",
            1,
            "gradients for a single example x of shape (d,)",
            gradients_single_cases,
        ),
        (
            "ps3_train_losses",
            2,
            "train returns the loss before each gradient-descent step",
            train_losses_cases,
        ),
        (
            "ps3_train_updates",
            3,
            "train updates the parameters in place, without accumulating gradients",
            train_updates_cases,
        ),
    )
]
CHECKS_BY_ID = {c.grade_id: c for c in CHECKS}


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the first entries of its hidden inputs, as a student would see them printed."""

    class _Seeded:
        pass

    student = _Seeded()
    student.seed = seed  # type: ignore[attr-defined]
    variants = [(label, single) for label, _, single in (*FORWARD_BATCH, *FORWARD_SINGLE)]
    variants += [(label, False) for label, *_ in (*GRAD_BATCH, *TRAIN_CASES)]
    variants += [("gradients_single/0", True)]
    out = []
    for label, single in variants:
        p = _problem(student, label, torch.float64, single=single)
        firsts = (p.x.reshape(-1)[0], p.W1.reshape(-1)[0], p.y.reshape(-1)[0])
        out += [f"{float(v):.6f}" for v in firsts]
    for dtype in (torch.float64, torch.float32):
        z = _sigmoid_inputs(dtype, seed).reshape(-1)[len(PUBLIC_Z) :]
        out += [f"{v:.6f}" for v in z.tolist()[:2]]
    return out
