"""Grader for chapter 8's exercises: an SGD-with-momentum step, an Adam step, a training loop.

Student API (float64 tensors in, tensors out):

- ``sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False)`` returns
  ``(new_param, new_velocity)``: ``v ← μ·v + g``, then ``p ← p − lr·v`` (heavy ball) or
  ``p ← p − lr·(g + μ·v)`` (Nesterov), which is ``torch.optim.SGD`` with ``momentum_buffer = v``.
- ``adam_step(param, grad, m, v, t, lr, beta1, beta2, eps)`` returns ``(new_param, new_m, new_v)``
  for step number ``t`` (1 for the first step): ``torch.optim.Adam``'s update.
- ``training_loop(model, x, y, lr, steps)`` trains an ``nn.Linear`` in place by full-batch
  gradient descent on the mean squared error and returns the list of per-step losses.

Why the comparisons are fair. The expected values come from ``torch.optim`` itself, run in the
trusted process on the same inputs (its optimiser state set to the student's inputs). Every
case is float64. Two correct implementations differ only by rounding: computing the update
``δ`` costs a few units of roundoff ``u = 2⁻⁵³`` relative to ``|δ|``, and adding it to ``p``
at most ``u·|p|``. The hidden cases keep ``|p| ≤ 10³·|δ|`` entrywise (updates of at least
1e-3 of the parameter), so the error relative to ‖δ‖ is below ~10³·u ≈ 1e-13, far inside
the rule's 1e-9 (``fromscratch.rules.CH08``). The same rule, relative to the change of the state,
applies to the velocity and to Adam's moments. The mistakes the feedback names (learning rate
folded into the velocity, dampening, no bias correction, ε inside the square root, a step count
off by one, swapped betas) all change the update by far more than 1e-9 of its size for the
hidden ranges below: every one of them is checked against the hidden inputs by the unit tests.

The training loop. Data are ``y = x·w + b + σ·ε`` (n = 96 samples, d = 3, σ = 0.1), seeded per
submission. The loss is convex quadratic with Hessian ``H = (2/n)·[x 1]ᵀ[x 1]``; the grader hands
out ``lr = 1/λ_max(H)`` and ``steps`` such that ``(1 − λ_min/λ_max)^steps ≤ 1e-6``, so exact
gradient descent ends within 1e-12 of the least-squares optimum ``L*`` in relative excess loss;
the rule asks for 1 % (``loss_excess``). The grader recomputes the final loss itself from the
model's parameters (the reported losses are only checked to be finite and to decrease).

Taught in: chapter 8, Optim (its Exercises section).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    cases_check,
    derive_seed,
    seeded_cases,
)
from fromscratch.rules import CH08 as RULES

STEP_TOL = RULES.tolerances["step"]
LOSS_EXCESS = RULES.tolerances["loss_excess"]
SHORTCUT_HINTS = {
    "optim": "write the update with tensor arithmetic (torch.optim is what you are rebuilding)",
    "reference": "write the update yourself",
}
CALL_TIMEOUT = 10.0  # seconds; a step takes microseconds
TRAIN_TIMEOUT = 30.0  # a few hundred full-batch steps on 96 samples take well under a second


def _gen(seed: int, label: str) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, label))


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen, dtype=torch.float64))


# ----------------------------------------------------------------------------- references


def torch_sgd(p, g, v, lr, momentum, nesterov=False):
    """``torch.optim.SGD``'s step from momentum buffer ``v``: (new p, new buffer)."""
    param = p.detach().clone().requires_grad_(True)
    opt = torch.optim.SGD([param], lr=lr, momentum=momentum, nesterov=nesterov)
    opt.state[param]["momentum_buffer"] = v.detach().clone()
    param.grad = g.detach().clone()
    opt.step()
    return param.detach().clone(), opt.state[param]["momentum_buffer"].detach().clone()


def torch_adam(p, g, m, v, t, lr, beta1, beta2, eps):
    """``torch.optim.Adam``'s step number ``t`` from moments ``m``, ``v``: (new p, m, v)."""
    param = p.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state[param] = {
        "step": torch.tensor(float(t - 1)),
        "exp_avg": m.detach().clone(),
        "exp_avg_sq": v.detach().clone(),
    }
    param.grad = g.detach().clone()
    opt.step()
    state = opt.state[param]
    return param.detach().clone(), state["exp_avg"].clone(), state["exp_avg_sq"].clone()


# ----------------------------------------------------------------------------- reading results


def _tensors(result, count: int, names: str, function: str, shape) -> list[torch.Tensor]:
    """The student's tuple of ``count`` tensors of ``shape``, or a GradingFailure saying why."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = f"a {type(result).__name__}" if not isinstance(result, (tuple, list)) else (
            f"{len(result)} values"
        )  # fmt: skip
        raise GradingFailure(f"{function} returned {got}; return the tuple {names}.")
    out = []
    for name, value in zip(names.strip("()").split(", "), result, strict=True):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = torch.tensor(value, dtype=torch.float64)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            value = torch.from_numpy(value)  # a NumPy step is as good as a torch one
        if not isinstance(value, torch.Tensor):
            raise GradingFailure(
                f"{function} returned a {type(value).__name__} as {name}; return a tensor."
            )
        if tuple(value.shape) != tuple(shape):
            raise GradingFailure(
                f"{function} returned {name} of shape {tuple(value.shape)}; it must keep the "
                f"parameter's shape {tuple(shape)}."
            )
        out.append(value.to(torch.float64))
    return out


def _off(got: torch.Tensor, expected: torch.Tensor, before: torch.Tensor) -> bool:
    """True unless ‖got − expected‖ ≤ STEP_TOL·‖expected − before‖ (all entries finite)."""
    if not torch.isfinite(got).all():
        return True
    scale = float(torch.linalg.vector_norm(expected - before))
    return float(torch.linalg.vector_norm(got - expected)) > STEP_TOL * scale + 1e-300


# ----------------------------------------------------------------------------- SGD


@dataclass(frozen=True)
class SgdCase:
    p: torch.Tensor
    grads: tuple[torch.Tensor, ...]  # one per step
    v: torch.Tensor
    lrs: tuple[float, ...]  # one per step: a schedule when several
    momentum: float
    nesterov: bool
    what: str


def sgd_cases(seed: int, nesterov: bool) -> list[SgdCase]:
    """Hidden SGD cases: a first step from a zero velocity, a step from a velocity, and (for heavy
    ball) three steps with a learning-rate schedule, each from the submission's seed."""
    cases = []
    kinds = ("first", "later", "schedule") if not nesterov else ("later", "schedule")
    for kind in kinds:
        gen = _gen(seed, f"sgd/{nesterov}/{kind}")
        shape = (3, 4) if kind != "later" else (6,)
        p = torch.randn(shape, generator=gen, dtype=torch.float64)
        n_steps = 3 if kind == "schedule" else 1
        grads = tuple(
            torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(n_steps)
        )
        v = torch.zeros(shape, dtype=torch.float64)
        if kind == "later":
            v = torch.randn(shape, generator=gen, dtype=torch.float64)
        momentum = _uniform(gen, 0.5, 0.95)
        lrs = tuple(_uniform(gen, 0.02, 0.3) for _ in range(n_steps))
        what = {
            "first": "the first step (velocity zero)",
            "later": "a step from a non-zero velocity",
            "schedule": "three steps in a row, with a different learning rate at each step",
        }[kind]
        cases.append(SgdCase(p, grads, v, lrs, momentum, nesterov, what))
    return cases


def _sgd_diagnosis(case: SgdCase, p, g, v, lr, got_p, got_v, exp_p, exp_v) -> str:
    mu = case.momentum
    v_lr = mu * v + lr * g
    v_damp = mu * v + (1 - mu) * g
    other_p, _ = torch_sgd(p, g, v, lr, mu, nesterov=not case.nesterov)
    if not _off(got_v, v_lr, v) or not _off(got_p, p - v_lr, p):
        return (
            "you folded the learning rate into the velocity (v ← μv + lr·g, p ← p − v). torch "
            "keeps v ← μv + g and steps p ← p − lr·v: the two agree only while lr never "
            "changes, and the velocity you return is lr times torch's."
        )
    if not _off(got_v, v_damp, v):
        return "your velocity is μv + (1 − μ)g (dampening); torch's default is v ← μv + g."
    if not _off(got_p, other_p, p):
        kind = "Nesterov" if not case.nesterov else "heavy-ball"
        return f"you took the {kind} step; this case asks for nesterov={case.nesterov}."
    if not _off(got_p, p - lr * v, p):
        return "you stepped with the old velocity: update v first, then step with the new v."
    if not _off(got_p, 2 * p - exp_p, p):
        return "your step goes uphill: subtract lr·v from the parameter."
    if _off(got_v, exp_v, v):
        return "the new velocity is wrong: v ← μ·v + g."
    return "the new parameter is wrong: p ← p − lr·v (heavy ball) or p − lr·(g + μ·v) (Nesterov)."


def _run_sgd(student: Student, case: SgdCase) -> None:
    p, v = case.p, case.v
    label = "nesterov=True" if case.nesterov else "heavy ball"
    where = f"sgd_momentum_step ({label}), {case.what}"
    for step, (g, lr) in enumerate(zip(case.grads, case.lrs, strict=True), start=1):
        exp_p, exp_v = torch_sgd(p, g, v, lr, case.momentum, case.nesterov)
        try:
            result = student.call("sgd_momentum_step", p, g, v, lr, case.momentum,
                                  nesterov=case.nesterov, timeout=CALL_TIMEOUT)  # fmt: skip
        except StudentError as error:
            raise StudentError(f"In {where}: {error}") from None
        got_p, got_v = _tensors(result, 2, "(new_param, new_velocity)", "sgd_momentum_step",
                                p.shape)  # fmt: skip
        if _off(got_p, exp_p, p) or _off(got_v, exp_v, v):
            at = f" (at step {step})" if len(case.grads) > 1 else ""
            why = _sgd_diagnosis(case, p, g, v, lr, got_p, got_v, exp_p, exp_v)
            raise GradingFailure(f"In {where}{at}: {why}")
        p, v = got_p, got_v  # the next step starts from the student's own state


# ----------------------------------------------------------------------------- Adam


@dataclass(frozen=True)
class AdamCase:
    p: torch.Tensor
    grads: tuple[torch.Tensor, ...]
    m: torch.Tensor
    v: torch.Tensor
    t: int  # the number of the first step taken
    lr: float
    betas: tuple[float, float]
    eps: float
    what: str


def adam_cases(seed: int, kind: str) -> list[AdamCase]:
    """Hidden Adam cases. ``first``: steps 1-4 from zero moments (bias correction matters most
    there). ``later``: one step number t in [5, 40] from given moments, with ε comparable to
    √v̂ (so where ε goes shows)."""
    cases = []
    for i in range(2):
        gen = _gen(seed, f"adam/{kind}/{i}")
        shape = (4, 3) if i == 0 else (7,)
        p = torch.randn(shape, generator=gen, dtype=torch.float64)
        beta1, beta2 = _uniform(gen, 0.8, 0.95), _uniform(gen, 0.99, 0.9995)
        lr = _uniform(gen, 0.01, 0.1)
        if kind == "first":
            grads = tuple(torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(4))
            zeros = torch.zeros(shape, dtype=torch.float64)
            eps = 10 ** _uniform(gen, -6, -4)
            cases.append(AdamCase(p, grads, zeros, zeros, 1, lr, (beta1, beta2), eps,
                                  "steps 1 to 4 from zero moments"))  # fmt: skip
        else:
            scale = 10 ** _uniform(gen, -3, -2)  # gradients of size ~ε
            g = scale * torch.randn(shape, generator=gen, dtype=torch.float64)
            m = scale * torch.randn(shape, generator=gen, dtype=torch.float64)
            v = scale**2 * (0.5 + torch.rand(shape, generator=gen, dtype=torch.float64))
            t = int(5 + 36 * float(torch.rand((), generator=gen)))
            cases.append(AdamCase(p, (g,), m, v, t, lr, (beta1, beta2), scale,
                                  f"step number t = {t} from given moments"))  # fmt: skip
    return cases


def _adam_textbook(p, g, m, v, t, lr, b1, b2, eps, *, correct=True, eps_inside=False):
    m2 = b1 * m + (1 - b1) * g
    v2 = b2 * v + (1 - b2) * g * g
    m_hat = m2 / (1 - b1**t) if correct else m2
    v_hat = v2 / (1 - b2**t) if correct else v2
    denom = torch.sqrt(v_hat + eps) if eps_inside else torch.sqrt(v_hat) + eps
    return p - lr * m_hat / denom


def _adam_diagnosis(case: AdamCase, p, g, m, v, t, got_p, got_m, got_v, exp_p, exp_m, exp_v):
    b1, b2 = case.betas
    args = (p, g, m, v)
    if _off(got_m, exp_m, m):
        if not _off(got_m, b2 * m + (1 - b2) * g, m):
            return "your first moment uses β₂: m ← β₁·m + (1 − β₁)·g (betas = (β₁, β₂))."
        return "the first moment is wrong: m ← β₁·m + (1 − β₁)·g."
    if _off(got_v, exp_v, v):
        if not _off(got_v, b2 * v + (1 - b2) * g, v):
            return "your second moment averages g, not g²: v ← β₂·v + (1 − β₂)·g²."
        return "the second moment is wrong: v ← β₂·v + (1 − β₂)·g² (elementwise square)."
    if not _off(got_p, _adam_textbook(*args, t, case.lr, b1, b2, case.eps, correct=False), p):
        return "no bias correction: divide m by (1 − β₁ᵗ) and v by (1 − β₂ᵗ) before the step."
    if not _off(got_p, _adam_textbook(*args, t, case.lr, b1, b2, case.eps, eps_inside=True), p):
        return "ε is inside the square root: the step is lr·m̂/(√v̂ + ε)."
    for shift, word in ((1, "one more"), (-1, "one fewer")):
        if t + shift >= 1 and not _off(
            got_p, _adam_textbook(*args, t + shift, case.lr, b1, b2, case.eps), p
        ):
            return f"your bias correction uses {word} step than t: t is this step's number."
    if not torch.isfinite(got_p).all():
        return (
            "the new parameter is not finite: if the bias correction divides by 1 − β₁ᵗ, "
            "t must start at 1, not 0."
        )
    return "the new parameter is wrong: p ← p − lr·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ)."


def _run_adam(student: Student, case: AdamCase) -> None:
    p, m, v, t = case.p, case.m, case.v, case.t
    b1, b2 = case.betas
    where = f"adam_step, {case.what}"
    for g in case.grads:
        exp = torch_adam(p, g, m, v, t, case.lr, b1, b2, case.eps)
        try:
            result = student.call("adam_step", p, g, m, v, t, case.lr, b1, b2, case.eps,
                                  timeout=CALL_TIMEOUT)  # fmt: skip
        except StudentError as error:
            raise StudentError(f"In {where}: {error}") from None
        got = _tensors(result, 3, "(new_param, new_m, new_v)", "adam_step", p.shape)
        if any(_off(a, b, c) for a, b, c in zip(got, exp, (p, m, v), strict=True)):
            at = f" (at t = {t})" if len(case.grads) > 1 else ""
            why = _adam_diagnosis(case, p, g, m, v, t, *got, *exp)
            raise GradingFailure(f"In {where}{at}: {why}")
        (p, m, v), t = got, t + 1


# ----------------------------------------------------------------------------- training loop


@dataclass(frozen=True)
class Regression:
    x: torch.Tensor  # (n, d)
    y: torch.Tensor  # (n, 1)
    w0: torch.Tensor  # (1, d): nn.Linear's weight layout
    b0: torch.Tensor  # (1,)
    lr: float
    steps: int

    def loss(self, w: torch.Tensor, b: torch.Tensor) -> float:
        return float(((self.x @ w.reshape(-1, 1) + b - self.y) ** 2).mean())

    def optimum(self) -> float:
        design = torch.cat([self.x, torch.ones(len(self.x), 1, dtype=self.x.dtype)], dim=1)
        sol = torch.linalg.lstsq(design, self.y).solution  # (d + 1, 1)
        return self.loss(sol[:-1, 0], sol[-1])


def regression(seed: int, i: int, n: int = 96, d: int = 3, sigma: float = 0.1) -> Regression:
    gen = _gen(seed, f"train/{i}")
    x = torch.randn(n, d, generator=gen, dtype=torch.float64) * (1 + torch.rand(d, generator=gen))
    w, b = torch.randn(d, 1, generator=gen, dtype=torch.float64), _uniform(gen, -2, 2)
    y = x @ w + b + sigma * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    design = torch.cat([x, torch.ones(n, 1, dtype=x.dtype)], dim=1)  # (n, d + 1)
    h = 2 / n * design.T @ design  # the Hessian of the MSE in (w, b)
    lam = torch.linalg.eigvalsh(h)  # ascending
    lr = 1 / float(lam[-1])
    steps = math.ceil(math.log(1e-6) / math.log(1 - float(lam[0] / lam[-1])))
    w0 = 0.1 * torch.randn(1, d, generator=gen, dtype=torch.float64)
    return Regression(x, y, w0, torch.zeros(1, dtype=torch.float64), lr, steps)


def drive_training(training_loop, x, y, w0, b0, lr, steps):
    """Runs in the sandbox: builds the model, lets the student's loop train it, returns plain
    values (the losses it reported, and the trained weight and bias)."""
    import torch

    model = torch.nn.Linear(x.shape[1], 1, dtype=x.dtype)
    with torch.no_grad():
        model.weight.copy_(w0)
        model.bias.copy_(b0)
    losses = training_loop(model, x, y, lr, steps)
    if isinstance(losses, torch.Tensor):
        losses = losses.reshape(-1).tolist()
    reported = None if losses is None else [float(value) for value in losses]
    return reported, model.weight.detach().clone(), model.bias.detach().clone()


def _run_training(student: Student, problem: Regression) -> None:
    where = f"training_loop on a generated regression ({problem.steps} steps)"
    try:
        losses, w, b = student.call("training_loop", problem.x, problem.y, problem.w0,
                                    problem.b0, problem.lr, problem.steps,
                                    driver=drive_training, timeout=TRAIN_TIMEOUT)  # fmt: skip
    except StudentError as error:
        raise StudentError(f"In {where}: {error}") from None
    if losses is None:
        raise GradingFailure(f"In {where}: training_loop returned None; return the losses.")
    if len(losses) != problem.steps:
        raise GradingFailure(
            f"In {where}: training_loop returned {len(losses)} losses; return one per step."
        )
    start, best = problem.loss(problem.w0, problem.b0), problem.optimum()
    final = problem.loss(w, b)
    if torch.equal(w, problem.w0) and torch.equal(b, problem.b0):
        raise GradingFailure(
            f"In {where}: the model's parameters did not change. Update them in place (for p in "
            "model.parameters(): p -= lr * p.grad inside torch.no_grad()); `p = p - lr * p.grad` "
            "only rebinds a local name."
        )
    if not math.isfinite(final) or final > (1 + LOSS_EXCESS) * best:
        excess = (final - best) / best if math.isfinite(final) else math.inf
        hint = (
            " The loss grew: are the gradients zeroed after each update? Without it they add up."
            if final > start or not math.isfinite(final)
            else " Run every step with the given lr, and zero the gradients after each update."
        )
        raise GradingFailure(
            f"In {where}: the final loss is {_pct(excess)} above the best possible (the "
            f"least-squares loss); the rule is at most {_pct(LOSS_EXCESS)}.{hint}"
        )
    if not all(math.isfinite(value) for value in losses) or not losses[-1] < losses[0]:
        raise GradingFailure(
            f"In {where}: the losses you returned do not go down from the first to the last; "
            "append the loss of every step (loss.item())."
        )


def _pct(fraction: float) -> str:
    return "infinitely" if not math.isfinite(fraction) else f"{100 * fraction:.3g} %"


# ----------------------------------------------------------------------------- parts


PARTS = {
    "sgd_momentum_step_heavy_ball": (
        2,
        "sgd_momentum_step, heavy ball: equal to torch.optim.SGD",
        seeded_cases(lambda seed: sgd_cases(seed, nesterov=False), _run_sgd),
    ),
    "sgd_momentum_step_nesterov": (
        1,
        "sgd_momentum_step with nesterov=True: equal to torch.optim.SGD",
        seeded_cases(lambda seed: sgd_cases(seed, nesterov=True), _run_sgd),
    ),
    "adam_step_first_steps": (
        2,
        "adam_step, steps 1-4 from zero moments: equal to torch.optim.Adam",
        seeded_cases(lambda seed: adam_cases(seed, "first"), _run_adam),
    ),
    "adam_step_later_step": (
        2,
        "adam_step at a later step, ε comparable to √v̂: equal to torch.optim.Adam",
        seeded_cases(lambda seed: adam_cases(seed, "later"), _run_adam),
    ),
    "training_loop_regression": (
        3,
        "training_loop reaches the least-squares loss within 1 %",
        seeded_cases(lambda seed: [regression(seed, i) for i in range(2)], _run_training),
    ),
}

CHECKS = [
    cases_check(gid, points, text, cases, partial=RULES.partial_credit_per_case)
    for gid, (points, text, cases) in PARTS.items()
]


def hidden_values(seed: int) -> list[str]:
    """The first entries of every hidden input, as a student would see them printed."""
    firsts: list[torch.Tensor] = []
    for nesterov in (False, True):
        for case in sgd_cases(seed, nesterov):
            firsts += [case.p, case.grads[0]]
    for kind in ("first", "later"):
        for case in adam_cases(seed, kind):
            firsts += [case.p, case.grads[0]]
    for i in range(2):
        problem = regression(seed, i)
        firsts += [problem.x, problem.y]
    return [f"{float(t.reshape(-1)[0]):.6f}" for t in firsts]
