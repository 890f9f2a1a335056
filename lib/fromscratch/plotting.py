"""Small plotting helpers shared by the chapters (matplotlib only).

Every figure in the book gets alt text from the chapter's MyST ``fig-alt`` option; these
helpers only draw. Taught in: used from chapter 3 onwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def new_figure(width: float = 6.0, height: float = 3.5) -> tuple[Figure, Axes]:
    """A figure with one axes, sized for the book's text column."""
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
    logy: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Plot named curves (for example loss per step) on one axes.

    Args:
        curves: label -> sequence of values; the x axis is the index.
        logy: use a logarithmic y axis (the default suits losses).
        ax: draw into this axes instead of a new figure.
    """
    if ax is None:
        _, ax = new_figure()
    for label, values in curves.items():
        ax.plot(range(len(values)), list(values), label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def plot_matrix(matrix, *, title: str | None = None, ax: Axes | None = None) -> Axes:
    """Show a small 2-D array as a heat map with its values written in the cells."""
    import numpy as np

    values = np.asarray(matrix.detach().cpu() if hasattr(matrix, "detach") else matrix)
    if values.ndim != 2:
        raise ValueError(f"plot_matrix needs a 2-D array, got shape {values.shape}")
    if ax is None:
        _, ax = new_figure(3.0, 3.0)
    limit = max(float(abs(values).max()), 1e-12)
    ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (i, j), v in np.ndenumerate(values):
        # Dark cells (|v| near the colour limit) get white text, light cells black.
        colour = "white" if abs(v) > 0.6 * limit else "black"
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color=colour)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    if title:
        ax.set_title(title)
    return ax
