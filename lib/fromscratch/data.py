"""Offline datasets used across the course. Nothing here touches the network.

Taught in: chapter 5 (random regression), chapter 8 (rotation data, digits).
"""

from __future__ import annotations

import numpy as np
import torch

# A counter-clockwise rotation by 90 degrees: R @ (x1, x2) = (-x2, x1).
ROTATION_90 = torch.tensor([[0.0, -1.0], [1.0, 0.0]])


def random_regression(
    n: int = 64,
    d_in: int = 1000,
    d_out: int = 10,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The random regression problem of the PyTorch examples (64 x 1000 -> 10).

    Inputs and targets are independent standard normal draws, so there is no signal
    to find: a network with enough parameters (the examples use a hidden width of 100)
    simply memorises the 64 targets, which makes the loss curve a clean test of an
    optimiser. Chapter 5 trains the NumPy two-layer net on it.

    Args:
        n: number of samples.
        d_in: input features.
        d_out: output features.
        seed: seed of a private generator; the global RNG is left untouched.
        dtype: floating dtype of both tensors.

    Returns:
        ``(x, y)`` with shapes ``(n, d_in)`` and ``(n, d_out)``.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=g, dtype=dtype)
    y = torch.randn(n, d_out, generator=g, dtype=dtype)
    return x, y


def rotation_data(
    n: int = 1000,
    *,
    seed: int = 0,
    noise: float = 0.0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2-D "rotate by 90 degrees" data of the Lab-3 seed, rows as samples.

    Each input row ``x_i`` is uniform on ``[-1, 1]^2`` and its target is ``R x_i`` with
    ``R = [[0, -1], [1, 0]]``. Stacked as rows this reads ``Y = X R^T``, so a linear
    model ``Y = X W`` should learn ``W ~ R^T = [[0, 1], [-1, 0]]`` (chapter 8).

    Args:
        n: number of samples.
        seed: seed of a private generator.
        noise: standard deviation of Gaussian noise added to the targets.
        dtype: floating dtype.

    Returns:
        ``(x, y)``, both of shape ``(n, 2)``.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g, dtype=dtype) * 2 - 1  # (n, 2)
    y = x @ ROTATION_90.to(dtype).T  # (n, 2) @ (2, 2) -> (n, 2)
    if noise > 0:
        y = y + noise * torch.randn(n, 2, generator=g, dtype=dtype)
    return x, y


def digits(
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images), split and scaled.

    The data ships inside scikit-learn, so this needs no download. Pixels (0..16) are
    scaled to [0, 1]; the split is a seeded random permutation (chapter 8).

    Returns:
        ``(x_train, y_train, x_test, y_test)``: images flattened to shape ``(n, 64)``,
        labels of dtype ``int64`` and shape ``(n,)``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    from sklearn.datasets import load_digits  # imported lazily: only chapter 8 needs it

    bunch = load_digits()
    x = torch.as_tensor(np.asarray(bunch.data) / 16.0, dtype=dtype)  # (1797, 64)
    y = torch.as_tensor(np.asarray(bunch.target), dtype=torch.int64)  # (1797,)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_test = int(round(test_fraction * len(y)))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]
