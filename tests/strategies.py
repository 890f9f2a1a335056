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
    # Allocate the axes in reverse order with a trailing pair, keep every other element, then
    # permute back: same shape, axes stored transposed and every stride doubled, so the view is
    # non-contiguous for any shape with more than one element (also (n, 1) and (1, n, 1)).
    rev = tuple(reversed(shape))
    big = torch.randn((*rev, 2), generator=g, dtype=dtype)[..., 0]  # shape rev, strides x2
    out = big.permute(tuple(reversed(range(len(shape)))))  # shape `shape`, axes reversed
    assert out.shape == torch.Size(shape)
    assert out.numel() <= 1 or not out.is_contiguous(), f"{shape} came out contiguous"
    return out
