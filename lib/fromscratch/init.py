"""Weight initialisation: how large the random starting weights must be, and why.

A layer ``z = x @ w.T`` (``w`` of shape ``(d_out, d_in)``, as in ``nn.Linear``) with independent
zero-mean weights of variance ``Var(w)`` gives

    Var(z_j) = d_in * Var(w) * E[x_i^2].

After a ReLU, ``E[relu(z)^2] = Var(z) / 2`` (z is symmetric about 0, and ReLU keeps the
positive half), so from one layer to the next the variance is multiplied by
``d_in * Var(w) / 2``. It stays constant exactly when ``Var(w) = 2 / d_in``: Kaiming (He)
initialisation. Any other scale multiplies the variance by the same factor at every layer, so
it grows or shrinks geometrically with depth; :func:`activation_stats` measures this.

Taught in: chapter 4, The forward pass (section "Activations through a deep stack").
"""

from __future__ import annotations

import math

import torch

_ACTIVATIONS = ("relu", "identity")


def kaiming_std(d_in: int, gain: float = math.sqrt(2.0)) -> float:
    """Standard deviation ``gain / sqrt(d_in)`` that keeps activations at a constant scale.

    With the default ReLU gain ``sqrt(2)`` this is ``sqrt(2 / d_in)``: the variance
    ``Var(w) = 2 / d_in`` makes the per-layer factor ``d_in * Var(w) / 2`` equal to 1. With
    ``gain=1`` (no activation, or a linear network) it is ``1 / sqrt(d_in)``.

    Args:
        d_in: fan-in, the number of inputs each output unit sums over.
        gain: the activation's gain; ``sqrt(2)`` for ReLU.

    Returns:
        The standard deviation as a Python float.

    Taught in: chapter 4, The forward pass.
    """
    if d_in < 1:
        raise ValueError(f"kaiming_std needs a fan-in d_in of at least 1, got {d_in}.")
    return gain / math.sqrt(d_in)


def kaiming_normal(
    d_in: int,
    d_out: int,
    generator: torch.Generator | None = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A ``(d_in, d_out)`` weight matrix with entries drawn from ``N(0, 2 / d_in)``.

    This is the layout of the hand-written layers in ``fromscratch.layers``, which compute
    ``x @ w``: the fan-in is the number of rows of ``w``. It is the transpose of the book's
    notation and of ``nn.Linear``, whose weight is ``(d_out, d_in)`` (fan-in = columns); for
    that layout use ``kaiming_normal(d_in, d_out).T`` or ``randn(d_out, d_in) * kaiming_std(d_in)``.

    Args:
        d_in: input features (fan-in).
        d_out: output features.
        generator: a seeded ``torch.Generator`` for reproducible draws.
        dtype: floating dtype of the result.

    Returns:
        Tensor of shape ``(d_in, d_out)``.

    Taught in: chapter 4, The forward pass.
    """
    if d_out < 1:
        raise ValueError(f"kaiming_normal needs d_out of at least 1, got {d_out}.")
    std = kaiming_std(d_in)
    return torch.randn(d_in, d_out, generator=generator, dtype=dtype) * std


def activation_stats(
    depth: int,
    width: int,
    std: float,
    n: int = 256,
    generator: torch.Generator | None = None,
    activation: str = "relu",
    *,
    dtype: torch.dtype = torch.float64,
) -> list[float]:
    """Push random inputs through a deep stack and measure the scale at every layer.

    The stack has ``depth`` bias-free layers of shape ``(width, width)`` with weights drawn
    from ``N(0, std^2)``. The input ``x`` of shape ``(n, width)`` is standard normal. Layer
    ``l`` computes the pre-activation ``z_l = h_{l-1} @ w_l.T`` (``w_l`` in ``nn.Linear``'s
    ``(d_out, d_in)`` layout, the book's notation) and then ``h_l = act(z_l)``.

    Theory (see the module docstring): with ReLU, ``Var(z_l) = (width * std^2 / 2) *
    Var(z_{l-1})`` for ``l >= 2`` and ``Var(z_1) = width * std^2`` (the input is not a ReLU
    output, so ``E[x^2] = 1``). With ``activation="identity"`` the factor is ``width * std^2``.

    float64 is the default because with ``std=1`` the scale passes float32's largest value
    (about 3.4e38) within 40 layers and becomes ``inf``.

    Args:
        depth: number of layers.
        width: features per layer (fan-in and fan-out of every layer).
        std: standard deviation of every weight.
        n: number of input samples (rows).
        generator: a seeded ``torch.Generator`` (used for the input, then the weights).
        activation: ``"relu"`` or ``"identity"``.
        dtype: floating dtype of the computation.

    Returns:
        A list of ``depth`` floats: the standard deviation of all entries of ``z_l`` for
        ``l = 1, ..., depth``.

    Taught in: chapter 4, The forward pass.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}.")
    if depth < 1 or width < 1 or n < 2:
        raise ValueError(
            f"activation_stats needs depth >= 1, width >= 1 and n >= 2 samples, "
            f"got depth={depth}, width={width}, n={n}."
        )
    h = torch.randn(n, width, generator=generator, dtype=dtype)  # (n, width)
    stds = []
    for _ in range(depth):
        w = torch.randn(width, width, generator=generator, dtype=dtype) * std  # (d_out, d_in)
        z = h @ w.T  # (n, width) @ (width, width) -> (n, width), as nn.Linear computes it
        stds.append(z.std().item())
        h = z.clamp(min=0) if activation == "relu" else z
    return stds
