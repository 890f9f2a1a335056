"""Custom autograd Functions: a forward, a backward, and what the backward needs to remember.

A ``torch.autograd.Function`` is one node of autograd's graph written by hand. ``forward``
computes the output and stores on ``ctx`` what ``backward`` will need; ``backward`` receives
``dL/d(output)`` (same shape as the output) and returns ``dL/d(input)`` (same shape as the
input). This is the vector-Jacobian product of chapter 5, packaged so that autograd can call it.

Taught in: chapter 6, Autograd (section "A custom autograd.Function").
"""

from __future__ import annotations

import torch


def _check_floating(x: torch.Tensor, name: str) -> None:
    """Raise a ValueError unless ``x`` is a floating-point tensor (gradients need one)."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} expects a torch.Tensor, got {type(x).__name__}.")
    if not x.is_floating_point():
        raise ValueError(
            f"{name} expects a floating-point tensor (gradients are only defined for those), "
            f"got dtype {x.dtype}; convert it first, e.g. x.double()."
        )


class ReLUFunction(torch.autograd.Function):
    """ReLU with a hand-written backward: ``y = max(x, 0)``, ``dL/dx = dL/dy * [x > 0]``.

    Derivation, element by element (any shape): ``y_i = max(x_i, 0)`` depends only on
    ``x_i``, so the Jacobian is diagonal with ``dy_i/dx_i = 1`` if ``x_i > 0`` and ``0`` if
    ``x_i < 0``. The chain rule ``dL/dx_i = sum_j dL/dy_j * dy_j/dx_i`` keeps only ``j = i``:
    ``dL/dx_i = dL/dy_i * [x_i > 0]``. At the kink ``x_i = 0`` there is no derivative; like
    ``torch.relu`` we use the subgradient ``0`` there (the mask is ``x > 0``, not ``x >= 0``).

    The backward needs the *input* (to know the sign), so ``forward`` saves it with
    ``ctx.save_for_backward``, which also lets autograd detect if it is modified in place
    before ``backward`` runs.

    Taught in: chapter 6, Autograd.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        """``x`` of any shape -> ``max(x, 0)`` of the same shape."""
        _check_floating(x, "ReLUFunction")
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """``dL/dy`` (shape of ``x``) -> ``dL/dx = dL/dy * [x > 0]`` (shape of ``x``)."""
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)  # bool mask is promoted to grad_output's dtype


class SigmoidFunction(torch.autograd.Function):
    """Numerically stable logistic sigmoid that saves its *output* for the backward.

    ``s(x) = 1 / (1 + exp(-x))``. Derivative: ``s'(x) = exp(-x) / (1 + exp(-x))^2
    = s(x) * (1 - s(x))``, so the backward needs only the output ``s``, not ``x``.

    Stability: with ``z = exp(-|x|)`` (always in ``(0, 1]``, never overflows),
    ``s(x) = 1 / (1 + z)`` for ``x >= 0`` and ``s(x) = z / (1 + z)`` for ``x < 0``
    (multiply top and bottom of ``1 / (1 + exp(-x))`` by ``exp(x) = z``). The naive
    ``exp(x) / (1 + exp(x))`` gives ``inf / inf = nan`` for large ``x``.

    Taught in: chapter 6, Autograd.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        """``x`` of any shape -> ``s(x)`` of the same shape."""
        _check_floating(x, "SigmoidFunction")
        z = torch.exp(-x.abs())  # in (0, 1]: cannot overflow
        s = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """``dL/ds`` (shape of ``x``) -> ``dL/dx = dL/ds * s * (1 - s)`` (shape of ``x``)."""
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


relu = ReLUFunction.apply
sigmoid = SigmoidFunction.apply
