"""Optimisers and learning-rate schedules written out step by step, as ``torch.optim`` does them.

Each optimiser keeps a list of parameters (leaf tensors whose ``.grad`` is filled by
``backward()``), its hyperparameters and per-parameter state, and has ``step()`` and
``zero_grad()``. Each update performs the same floating-point operations, in the same order,
as the single-tensor (``foreach=False``) code path of the matching ``torch.optim`` class, so
that the tests can compare parameters after many steps to within a few units in the last
place (most steps are bit-identical).

The learning rate is the attribute ``lr``; a schedule is a plain function of the step
number that returns the learning rate to use, so a loop sets ``opt.lr = schedule(t)``
before ``opt.step()``.

Taught in: chapter 8, Optim (sections "Momentum and Nesterov", "Learning-rate schedules"
and "AdamW: decoupled weight decay").
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


def _leaf_list(params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    params = list(params)
    if not params:
        raise ValueError("the optimiser got an empty parameter list; pass model.parameters().")
    for p in params:
        if not p.is_leaf or not p.requires_grad:
            raise ValueError(
                "optimisers update leaf tensors with requires_grad=True; got a tensor with "
                f"is_leaf={p.is_leaf}, requires_grad={p.requires_grad}. Create the parameter "
                "first, then call .requires_grad_()."
            )
    return params


class SGD:
    """Gradient descent with optional heavy-ball or Nesterov momentum and L2 weight decay.

    With gradient ``g_t`` (plus ``weight_decay * p``, the gradient of the L2 penalty
    ``weight_decay / 2 * ||p||^2``) and momentum ``mu``::

        v_1 = g_1,   v_t = mu * v_{t-1} + g_t                    (velocity, shape of p)
        heavy ball:  p <- p - lr * v_t
        Nesterov:    p <- p - lr * (g_t + mu * v_t)

    ``mu = 0`` is plain gradient descent. The Nesterov form is the one of Sutskever et al.
    (2013), rewritten so that the gradient is taken at the current parameters.

    Args:
        params: leaf tensors with ``requires_grad=True``.
        lr: learning rate, ``lr > 0``.
        momentum: ``mu`` in ``[0, 1)``.
        nesterov: use the Nesterov step (needs ``momentum > 0``).
        weight_decay: L2 coefficient ``lambda >= 0``, added to the gradient.

    Taught in: chapter 8, Optim (section "Momentum and Nesterov").
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}.")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0 (with 0 it is plain SGD).")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be non-negative, got {weight_decay}.")
        self.params = _leaf_list(params)
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov
        self.weight_decay = weight_decay
        self.velocity: list[torch.Tensor | None] = [None] * len(self.params)

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad  # same shape as p
            if self.weight_decay != 0:
                g = g.add(p, alpha=self.weight_decay)  # g + lambda p: the L2 gradient
            if self.momentum != 0:
                v = self.velocity[i]
                if v is None:
                    v = g.detach().clone()  # v_1 = g_1
                    self.velocity[i] = v
                else:
                    v.mul_(self.momentum).add_(g)  # v_t = mu v_{t-1} + g_t
                g = g.add(v, alpha=self.momentum) if self.nesterov else v
            p.add_(g, alpha=-self.lr)

    def zero_grad(self) -> None:
        """Set every ``.grad`` to ``None`` (what ``torch.optim`` does by default)."""
        for p in self.params:
            p.grad = None


class Adam:
    """Adam (Kingma and Ba, 2015), with L2 weight decay added to the gradient as in torch.

    With ``g_t`` the gradient (plus ``weight_decay * p`` when ``weight_decay > 0``)::

        m_t = beta1 m_{t-1} + (1 - beta1) g_t,     v_t = beta2 v_{t-1} + (1 - beta2) g_t**2
        p <- p - lr / (1 - beta1**t) * m_t / (sqrt(v_t) / sqrt(1 - beta2**t) + eps)

    which is ``p - lr * m_hat / (sqrt(v_hat) + eps)`` with the bias corrections folded into
    the step size, the arrangement ``torch.optim.Adam`` uses.

    Taught in: chapter 8, Optim (sections "Adam" and "AdamW: decoupled weight decay").
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}.")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"betas must both lie in [0, 1), got {betas}.")
        if eps < 0 or weight_decay < 0:
            raise ValueError(
                f"eps and weight_decay must be non-negative, got {eps}, {weight_decay}."
            )
        self.params = _leaf_list(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0  # steps taken (the same count for every parameter)
        self.m = [torch.zeros_like(p) for p in self.params]  # first moments, shape of each p
        self.v = [torch.zeros_like(p) for p in self.params]  # second moments

    @torch.no_grad()
    def step(self) -> None:
        """One Adam (or AdamW) step for every parameter that has a gradient, in place."""
        beta1, beta2 = self.betas
        self.t += 1
        bias1 = 1 - beta1**self.t
        bias2_sqrt = (1 - beta2**self.t) ** 0.5
        step_size = self.lr / bias1
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay != 0:
                if self.decoupled:
                    p.mul_(1 - self.lr * self.weight_decay)  # AdamW: shrink p directly
                else:
                    g = g.add(p, alpha=self.weight_decay)  # Adam: L2 gradient, rescaled below
            m.lerp_(g, 1 - beta1)  # m + (1 - beta1)(g - m) = beta1 m + (1 - beta1) g
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / bias2_sqrt).add_(self.eps)  # sqrt(v_hat) + eps
            p.addcdiv_(m, denom, value=-step_size)

    def zero_grad(self) -> None:
        """Set every ``.grad`` to ``None``."""
        for p in self.params:
            p.grad = None


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Before the Adam step, ``p <- (1 - lr * weight_decay) p``: the decay shrinks every
    weight by the same factor, instead of entering the gradient where Adam's per-coordinate
    scaling would divide it by ``sqrt(v_hat)``. The default ``weight_decay`` is 0.01, as in
    ``torch.optim.AdamW``.

    Taught in: chapter 8, Optim (section "AdamW: decoupled weight decay").
    """

    decoupled = True

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def step_lr(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: the learning rate is multiplied by ``gamma`` every ``step_size`` steps.

    ``lr(t) = base_lr * gamma ** (t // step_size)``, computed by repeated multiplication
    as ``torch.optim.lr_scheduler.StepLR`` does (so the two agree bit for bit).

    Taught in: chapter 8, Optim (section "Learning-rate schedules").
    """
    if step < 0 or step_size < 1:
        raise ValueError(f"need step >= 0 and step_size >= 1, got {step} and {step_size}.")
    lr = base_lr
    for _ in range(step // step_size):
        lr *= gamma
    return lr


def warmup_cosine_lr(
    step: int,
    base_lr: float,
    warmup_steps: int,
    total_steps: int,
    start_factor: float = 0.1,
    min_lr: float = 0.0,
) -> float:
    """Linear warm-up to ``base_lr``, then cosine decay to ``min_lr`` at ``total_steps``.

    For ``t < W`` (``W = warmup_steps``)::

        lr(t) = base_lr * (start_factor + (1 - start_factor) * t / W)

    and for ``W <= t <= T`` (``T = total_steps``), with ``s = (t - W) / (T - W)``::

        lr(t) = min_lr + (base_lr - min_lr) * (1 + cos(pi * s)) / 2

    and ``min_lr`` after ``T``. The cosine half-period is the schedule of Loshchilov and
    Hutter (2017) without restarts; the warm-up is the one of Goyal et al. (2017).

    Taught in: chapter 8, Optim (section "Learning-rate schedules").
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}."
        )
    if step < 0:
        raise ValueError(f"step must be non-negative, got {step}.")
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    if step >= total_steps:
        return min_lr
    s = (step - warmup_steps) / (total_steps - warmup_steps)  # in [0, 1)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * s)) / 2
