"""Tests for fromscratch.tensors: every answer is checked against torch or numpy themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.tensors import (
    describe,
    element_offset,
    gather,
    is_row_major,
    reduced_shape,
    row_major_strides,
    shares_memory,
    view_strides,
)
from strategies import random_tensor, seeds

shapes = st.lists(st.integers(min_value=1, max_value=5), min_size=0, max_size=4).map(tuple)
shapes_with_zeros = st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=4).map(
    tuple
)


@st.composite
def strided_views(draw) -> torch.Tensor:
    """A view of a 1-D arange with a random storage offset, slice steps and axis order.

    Its values are storage positions, so ``t[idx]`` *is* the offset the stride formula
    must produce.
    """
    shape = draw(shapes)
    steps = [draw(st.integers(min_value=1, max_value=3)) for _ in shape]
    offset = draw(st.integers(min_value=0, max_value=3))
    big_shape = [n * k for n, k in zip(shape, steps, strict=True)]
    base = torch.arange(offset + math.prod(big_shape) + 2)
    big = base[offset : offset + math.prod(big_shape)].view(big_shape)
    t = big[tuple(slice(None, None, k) for k in steps)]  # shape == shape, strides scaled
    perm = draw(st.permutations(range(len(shape))))
    t = t.permute(*perm) if shape else t
    # A size-1 dimension's stride never moves the address, so torch allows any value there;
    # give some of them arbitrary strides to exercise that corner of the rules.
    odd = [
        draw(st.integers(min_value=0, max_value=9)) if n == 1 else s
        for n, s in zip(t.shape, t.stride(), strict=True)
    ]
    return torch.as_strided(t, t.shape, odd, t.storage_offset())


@given(strided_views())
def test_element_offset_matches_storage(t):
    for idx in np.ndindex(*t.shape):
        offset = element_offset(idx, t.stride(), t.storage_offset())
        assert offset == int(t[idx])


@given(shapes, seeds())
def test_element_offset_reads_untyped_storage(shape, seed):
    t = random_tensor(shape, seed, contiguous=False)
    storage = torch.empty(0, dtype=t.dtype).set_(t.untyped_storage())  # the whole flat buffer
    for idx in np.ndindex(*shape):
        assert storage[element_offset(idx, t.stride(), t.storage_offset())] == t[idx]


def test_element_offset_rejects_wrong_length():
    with pytest.raises(ValueError, match="one index per dimension"):
        element_offset((1, 2), (4, 1, 1))


@given(shapes_with_zeros)
def test_row_major_strides_match_fresh_tensor(shape):
    assert row_major_strides(shape) == torch.empty(shape).stride()


@given(strided_views())
def test_is_row_major_matches_is_contiguous(t):
    assert is_row_major(t.shape, t.stride()) == t.is_contiguous()


@given(shapes_with_zeros, st.data())
def test_is_row_major_on_expanded_and_size_one_views(shape, data):
    # Expanding introduces stride 0; slicing to length 1 leaves "odd" strides on size-1 dims.
    x = torch.zeros(shape)
    target = tuple(data.draw(st.sampled_from([n, 3])) if n == 1 else n for n in shape)
    for t in (x.expand(target), x[tuple(slice(0, 1) for _ in shape)], x.mT if x.ndim >= 2 else x):
        assert is_row_major(t.shape, t.stride()) == t.is_contiguous()


@st.composite
def regroupings(draw, numel: int) -> tuple[int, ...]:
    """A random shape with ``numel`` elements: its prime factors, grouped, with 1s sprinkled in."""
    factors, n, p = [], numel, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    new_shape: list[int] = []
    for f in factors:
        if new_shape and draw(st.booleans()):
            new_shape[-1] *= f
        else:
            new_shape.append(f)
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        new_shape.insert(draw(st.integers(min_value=0, max_value=len(new_shape))), 1)
    return tuple(new_shape)


@given(strided_views(), st.data())
def test_view_strides_predict_torch_view(t, data):
    new_shape = data.draw(regroupings(t.numel()))
    predicted = view_strides(t.shape, t.stride(), new_shape)
    try:
        actual = t.view(new_shape).stride()
    except RuntimeError:
        actual = None
    assert predicted == actual


@given(shapes, seeds(), st.data())
def test_view_strides_on_noncontiguous_random_tensors(shape, seed, data):
    t = random_tensor(shape, seed, contiguous=False)
    for new_shape in (data.draw(regroupings(t.numel())), (t.numel(),), tuple(reversed(shape))):
        try:
            actual = t.view(new_shape).stride()
        except RuntimeError:
            actual = None
        assert view_strides(t.shape, t.stride(), new_shape) == actual


def test_view_strides_transpose_flatten_is_refused_like_torch():
    x = torch.arange(12.0).reshape(3, 4)
    assert view_strides(x.shape, x.stride(), (12,)) == x.view(12).stride()
    assert view_strides(x.T.shape, x.T.stride(), (12,)) is None
    with pytest.raises(RuntimeError):
        x.T.view(12)


def test_view_strides_rejects_wrong_numel():
    with pytest.raises(ValueError, match="element counts must match"):
        view_strides((3, 4), (4, 1), (5,))


@given(strided_views(), st.data())
def test_shares_memory_agrees_with_numpy(t, data):
    base_storage = torch.empty(0, dtype=t.dtype).set_(t.untyped_storage())  # the whole buffer
    n = base_storage.numel()
    start = data.draw(st.integers(min_value=0, max_value=n - 1))
    stop = data.draw(st.integers(min_value=start, max_value=n))
    step = data.draw(st.integers(min_value=1, max_value=3))
    other = base_storage[start:stop:step]
    assert shares_memory(t, other) == np.shares_memory(t.numpy(), other.numpy())
    assert shares_memory(t, t.clone()) is False


def test_shares_memory_examples():
    x = torch.arange(6.0)
    assert shares_memory(x, x.view(2, 3).T)
    assert not shares_memory(x[:3], x[3:])  # same storage, disjoint bytes
    a = np.arange(4.0)
    assert shares_memory(torch.from_numpy(a), torch.from_numpy(a[1:]))
    assert not shares_memory(torch.tensor(a), torch.from_numpy(a))


def test_describe_leaf_and_nonleaf_and_transpose():
    w = torch.randn(3, 4, requires_grad=True)
    y = (w * 2).T
    dw, dy = describe(w), describe(y)
    assert dw["is_leaf"] and dw["requires_grad"] and dw["contiguous"]
    assert not dy["is_leaf"] and dy["requires_grad"] and not dy["contiguous"]
    assert dy["shape"] == (4, 3) and dy["strides"] == (1, 4) and dy["storage_offset"] == 0
    assert describe(torch.arange(10)[3:])["storage_offset"] == 3
    assert describe(torch.zeros(2, dtype=torch.float16))["dtype"] == torch.float16


# --- indexing and reductions -----------------------------------------------------------------


@st.composite
def gather_cases(draw) -> tuple[torch.Tensor, int, torch.Tensor]:
    """A (possibly non-contiguous) tensor, an axis, and a valid int64 index for gather."""
    shape = draw(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3))
    t = random_tensor(tuple(shape), draw(seeds()), contiguous=draw(st.booleans()))
    dim = draw(st.integers(min_value=-len(shape), max_value=len(shape) - 1))
    axis = dim % len(shape)
    index_shape = [
        draw(st.integers(min_value=1, max_value=5))
        if a == axis
        else draw(st.integers(min_value=1, max_value=n))
        for a, n in enumerate(shape)
    ]
    g = torch.Generator().manual_seed(draw(seeds()))
    index = torch.randint(0, shape[axis], tuple(index_shape), generator=g)
    return t, dim, index


@given(gather_cases())
def test_gather_matches_torch(case):
    t, dim, index = case
    ours = gather(t, dim, index)
    assert torch.equal(ours, torch.gather(t, dim, index))
    assert ours.data_ptr() != t.data_ptr()  # a copy, like torch.gather


def test_gather_picks_one_entry_per_row():
    scores = torch.arange(12.0).reshape(3, 4)  # (n, classes)
    labels = torch.tensor([[3], [0], [2]])  # (n, 1)
    assert gather(scores, 1, labels).flatten().tolist() == [3.0, 4.0, 10.0]


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (torch.tensor([[0], [1]], dtype=torch.int32), "int64"),
        (torch.tensor([0, 1]), "dimension"),
        (torch.tensor([[0], [1], [0], [1]]), "larger than"),
        (torch.tensor([[4], [0], [0]]), r"\[0, 4\)"),
    ],
)
def test_gather_rejects_bad_indices_with_a_reason(index, message):
    with pytest.raises(ValueError, match=message):
        gather(torch.zeros(3, 4), 1, index)


@given(
    shape=st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=4).map(tuple),
    data=st.data(),
)
def test_reduced_shape_matches_torch_sum(shape, data):
    t = torch.zeros(shape)
    keepdim = data.draw(st.booleans())
    axes = data.draw(st.lists(st.integers(min_value=0, max_value=max(len(shape) - 1, 0))))
    dims = sorted(set(axes)) if shape else []
    if dims:  # some axes, given as negative numbers half of the time
        if data.draw(st.booleans()):
            dims = [d - len(shape) for d in dims]
        assert reduced_shape(shape, dims, keepdim) == tuple(t.sum(dim=dims, keepdim=keepdim).shape)
    every = tuple(range(len(shape)))
    expected = t.sum(dim=every, keepdim=True).shape if keepdim else t.sum().shape
    assert reduced_shape(shape, None, keepdim) == tuple(expected)


def test_reduced_shape_single_axis_and_errors():
    assert reduced_shape((2, 3, 4), 1) == (2, 4)
    assert reduced_shape((2, 3, 4), -1, keepdim=True) == (2, 3, 1)
    with pytest.raises(ValueError, match="out of range"):
        reduced_shape((2, 3), 2)
    with pytest.raises(ValueError, match="twice"):
        reduced_shape((2, 3), (1, -1))
