"""Tests for fromscratch.broadcast, with torch's own broadcasting as the oracle."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.broadcast import broadcast_pair, broadcast_shape, expand_stride0, outer
from strategies import random_tensor, seeds

# Small sizes with plenty of 1s (the interesting case) and the odd 0.
sizes = st.sampled_from([0, 1, 1, 1, 2, 3, 4])
shapes = st.lists(sizes, min_size=0, max_size=4).map(tuple)
nonempty_shapes = st.lists(st.sampled_from([1, 1, 2, 3, 4]), min_size=0, max_size=4).map(tuple)


@st.composite
def compatible_pairs(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast: a common shape, each side sometimes 1 or truncated."""
    full = draw(nonempty_shapes)

    def side() -> tuple[int, ...]:
        shape = tuple(1 if draw(st.booleans()) else n for n in full)
        return shape[draw(st.integers(min_value=0, max_value=len(shape))) :]

    return side(), side()


def torch_broadcast_shape(*shapes):
    """torch's answer, or None where torch refuses."""
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        return None


def ours(*shapes):
    try:
        return broadcast_shape(*shapes)
    except ValueError:
        return None


@given(st.lists(shapes, min_size=1, max_size=3))
def test_broadcast_shape_agrees_with_torch_on_arbitrary_shapes(shape_list):
    # Arbitrary shapes: often incompatible, so this checks that we raise exactly when torch does.
    assert ours(*shape_list) == torch_broadcast_shape(*shape_list)


@given(compatible_pairs())
def test_broadcast_shape_agrees_with_torch_on_compatible_pairs(pair):
    assert broadcast_shape(*pair) == tuple(torch.broadcast_shapes(*pair))


def test_broadcast_shape_error_names_the_dimension():
    with pytest.raises(ValueError, match=r"dimension -1 .* sizes are 3 and 4"):
        broadcast_shape((2, 3), (4,))
    with pytest.raises(RuntimeError):
        torch.broadcast_shapes((2, 3), (4,))


def test_broadcast_shape_table_examples():
    assert broadcast_shape() == ()
    assert broadcast_shape((), (3,)) == (3,)
    assert broadcast_shape((5, 1), (1, 4)) == (5, 4) == torch.broadcast_shapes((5, 1), (1, 4))
    assert broadcast_shape((8, 1, 6, 1), (7, 1, 5)) == (8, 7, 6, 5)


@given(compatible_pairs(), seeds(), st.booleans())
def test_expand_stride0_equals_torch_expand(pair, seed, contiguous):
    small, _ = pair
    target = broadcast_shape(*pair)
    t = random_tensor(small, seed, contiguous=contiguous)
    mine, theirs = expand_stride0(t, target), t.expand(target)
    assert mine.shape == theirs.shape
    torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
    torch.testing.assert_close(mine, torch.broadcast_to(t, target), rtol=0, atol=0)
    # Strides: 0 exactly on the stretched or new dimensions (size-1 dims never move the address).
    lead = len(target) - t.ndim
    for j, n in enumerate(target):
        if n > 1:
            stretched = j < lead or t.shape[j - lead] == 1
            assert mine.stride(j) == (0 if stretched else t.stride(j - lead)) == theirs.stride(j)
    # No new memory: the view starts at the same address in the same storage.
    assert mine.data_ptr() == t.data_ptr()
    assert mine.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()


@given(shapes, shapes, seeds())
def test_expand_stride0_raises_exactly_when_torch_expand_does(small, target, seed):
    t = random_tensor(small, seed)
    try:
        t.expand(target)
        torch_ok = True
    except RuntimeError:
        torch_ok = False
    try:
        expand_stride0(t, target)
        ours_ok = True
    except ValueError:
        ours_ok = False
    assert ours_ok == torch_ok


@given(compatible_pairs(), seeds(), st.booleans())
def test_broadcast_pair_elementwise_ops_match_torch(pair, seed, contiguous):
    a = random_tensor(pair[0], seed, contiguous=contiguous)
    b = random_tensor(pair[1], seed + 1, contiguous=not contiguous)
    x, y = broadcast_pair(a, b)
    assert x.shape == y.shape == torch.broadcast_shapes(a.shape, b.shape)
    for op in (torch.add, torch.sub, torch.mul, torch.maximum):
        torch.testing.assert_close(op(x, y), op(a, b), rtol=0, atol=0)


def test_broadcast_pair_rejects_incompatible():
    with pytest.raises(ValueError, match="cannot broadcast"):
        broadcast_pair(torch.zeros(2, 3), torch.zeros(2))


@given(st.integers(1, 6), st.integers(1, 6), seeds())
def test_outer_matches_torch_outer(m, n, seed):
    a = random_tensor((m,), seed, contiguous=False)  # strided vector, shape (m,)
    b = random_tensor((n,), seed + 1)
    torch.testing.assert_close(outer(a, b), torch.outer(a, b))


def test_outer_rejects_matrices():
    with pytest.raises(ValueError, match="two vectors"):
        outer(torch.zeros(2, 2), torch.zeros(2))
