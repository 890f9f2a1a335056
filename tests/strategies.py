"""Shared hypothesis strategies and settings for the library tests (one place, as in minitorch).

Every example is derandomised so that a test run is reproducible; ``deadline=None`` because
the first call into torch can be slow on a loaded CI machine.
"""

from __future__ import annotations

import torch
from hypothesis import settings
from hypothesis import strategies as st

settings.register_profile("course", deadline=None, derandomize=True, max_examples=40)
settings.load_profile("course")

small_dim = st.integers(min_value=1, max_value=7)


@st.composite
def matrix_shapes(draw) -> tuple[int, int, int]:
    """(m, k, n) for an (m, k) @ (k, n) product."""
    return draw(small_dim), draw(small_dim), draw(small_dim)


@st.composite
def seeds(draw) -> int:
    return draw(st.integers(min_value=0, max_value=2**31 - 1))


def random_tensor(
    shape: tuple[int, ...],
    seed: int,
    *,
    dtype: torch.dtype = torch.float64,
    contiguous: bool = True,
) -> torch.Tensor:
    """A seeded standard-normal tensor of ``shape``.

    With ``contiguous=False`` the result has the same shape and values distribution but
    is a non-contiguous view (the transpose of a larger tensor, sliced with a step), so
    tests exercise code paths that must not assume row-major storage.
    """
    g = torch.Generator().manual_seed(seed)
    if contiguous:
        return torch.randn(shape, generator=g, dtype=dtype)
    # Build a bigger tensor in reversed axis order, take every second element along the
    # first axis, then permute back: same shape, non-unit strides.
    rev = tuple(reversed(shape))
    big = torch.randn((2 * rev[0], *rev[1:]) if rev else (), generator=g, dtype=dtype)
    view = big[::2] if rev else big
    out = view.permute(*reversed(range(len(shape)))) if shape else view
    assert out.shape == torch.Size(shape)
    # Shapes with at most one dimension of size > 1 (e.g. (1, 2, 1)) can still count as
    # contiguous, since torch ignores the strides of size-1 dimensions; all others are not.
    if sum(s > 1 for s in shape) >= 2 or (len(shape) == 1 and shape[0] > 1):
        assert not out.is_contiguous(), f"random_tensor failed to make {shape} non-contiguous"
    return out
