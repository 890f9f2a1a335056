"""Public tests of chapter 8's exercises: SGD with momentum, Adam, a training loop.

Each step is compared with ``torch.optim`` on the same inputs (run here, outside your function),
with the rule grading uses: ``‖yours − torch's‖ ≤ step · ‖torch's − before‖`` per returned
tensor (``fromscratch.rules.CH08``); the training loop must end within ``loss_excess`` of the
least-squares loss. Grading runs more cases of each kind, on other inputs.

Taught in: chapter 8, Optim (its Exercises section).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH08

STEP = CH08.tolerances["step"]
LOSS_EXCESS = CH08.tolerances["loss_excess"]


def _tensors(result: Any, count: int, names: str, function: str) -> list[torch.Tensor]:
    if not isinstance(result, (tuple, list)) or len(result) != count:
        raise Fail(f"{function} must return the tuple {names}; got {type(result).__name__}.")
    if not all(isinstance(t, torch.Tensor) for t in result):
        raise Fail(f"{function} must return tensors {names}.")
    return [t.detach().double() for t in result]


def _same(what: str, got: torch.Tensor, want: torch.Tensor, before: torch.Tensor) -> None:
    if got.shape != want.shape:
        raise Fail(f"{what} has shape {tuple(got.shape)}; expected {tuple(want.shape)}.")
    scale = float(torch.linalg.vector_norm(want - before))
    err = float(torch.linalg.vector_norm(got - want))
    if not err <= STEP * scale:
        raise Fail(
            f"{what} differs from torch.optim's by {err / scale:.2g} of the step; grading "
            f"needs ≤ {STEP:g}."
        )


def _sgd(run: Runner, nesterov: bool, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    p = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    v = torch.zeros_like(p)
    ref = p.clone().requires_grad_(True)
    for step, lr in enumerate((0.1, 0.05, 0.2), start=1):  # a schedule: lr changes
        g = torch.randn(3, 2, generator=gen, dtype=torch.float64)
        opt = torch.optim.SGD([ref], lr=lr, momentum=0.9, nesterov=nesterov)
        opt.state[ref]["momentum_buffer"] = v.clone()
        before = ref.detach().clone()
        ref.grad = g.clone()
        opt.step()
        result = run.call("sgd_momentum_step", p, g, v, lr, 0.9, nesterov)
        old_v = v
        p, v = _tensors(result, 2, "(new_param, new_velocity)", "sgd_momentum_step")
        _same(f"step {step}: the new parameter", p, ref.detach(), before)
        _same(f"step {step}: the new velocity", v, opt.state[ref]["momentum_buffer"], old_v)


def _adam(run: Runner, t0: int, seed: int, eps: float, scale: float) -> None:
    gen = torch.Generator().manual_seed(seed)
    p = torch.randn(4, generator=gen, dtype=torch.float64)
    m = scale * torch.randn(4, generator=gen, dtype=torch.float64) if t0 > 1 else p * 0
    v = scale**2 * (0.5 + torch.rand(4, generator=gen, dtype=torch.float64)) if t0 > 1 else p * 0
    for t in range(t0, t0 + 3):
        g = scale * torch.randn(4, generator=gen, dtype=torch.float64)
        ref = p.clone().requires_grad_(True)
        opt = torch.optim.Adam([ref], lr=0.05, betas=(0.85, 0.995), eps=eps)
        opt.state[ref] = {"step": torch.tensor(t - 1.0), "exp_avg": m.clone(),
                          "exp_avg_sq": v.clone()}  # fmt: skip
        ref.grad = g.clone()
        opt.step()
        want = (ref.detach(), opt.state[ref]["exp_avg"], opt.state[ref]["exp_avg_sq"])
        result = run.call("adam_step", p, g, m, v, t, 0.05, 0.85, 0.995, eps)
        got = _tensors(result, 3, "(new_param, new_m, new_v)", "adam_step")
        for name, a, b, before in zip(("parameter", "m", "v"), got, want, (p, m, v), strict=True):
            _same(f"at t = {t}: the new {name}", a, b, before)
        p, m, v = got


def _training(run: Runner) -> None:
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(64, 3, generator=gen, dtype=torch.float64)  # (n, d)
    w = torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)  # (d, 1)
    y = x @ w + 0.3 + 0.1 * torch.randn(64, 1, generator=gen, dtype=torch.float64)  # (n, 1)

    def drive(training_loop: Callable[..., Any], x: torch.Tensor, y: torch.Tensor) -> Any:
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1, dtype=torch.float64)
        losses = training_loop(model, x, y, 0.2, 200)
        return losses, model.weight.detach().clone(), model.bias.detach().clone()

    losses, weight, bias = run.call("training_loop", x, y, driver=drive)
    if losses is None or len(losses) != 200:
        count = "None" if losses is None else f"{len(losses)} losses"
        raise Fail(f"training_loop must return one loss per step (200); got {count}.")
    design = torch.cat([x, torch.ones(64, 1, dtype=torch.float64)], dim=1)  # (n, d + 1)
    best = float(((design @ torch.linalg.lstsq(design, y).solution - y) ** 2).mean())
    final = float(((x @ weight.T + bias - y) ** 2).mean())
    if not final <= (1 + LOSS_EXCESS) * best:
        raise Fail(
            f"after training the loss is {final:.4g}; grading needs ≤ {1 + LOSS_EXCESS:g} × the "
            f"least-squares loss {best:.4g}. Update the parameters in place under "
            "torch.no_grad() and zero the gradients after each update."
        )


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    """The public test of every graded part of ch08_optim, by grade id."""
    return {
        "sgd_momentum_step_heavy_ball": lambda: _sgd(run, False, 11),
        "sgd_momentum_step_nesterov": lambda: _sgd(run, True, 12),
        "adam_step_first_steps": lambda: _adam(run, 1, 13, 1e-8, 1.0),
        "adam_step_later_step": lambda: _adam(run, 9, 14, 1e-3, 1e-3),
        "training_loop_regression": lambda: _training(run),
    }
