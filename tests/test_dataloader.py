"""Tests for fromscratch.dataloader.

Oracle: torch.utils.data. Given the same order of indices, our loader must yield the same
batches (same tensors, same sizes, the same last partial batch) as torch's; random_split and
the first epoch of a seeded RandomSampler must agree with torch's for the same seed.
"""

import pytest
import torch
import torch.utils.data as tud
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.dataloader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    collate,
    random_split,
)
from strategies import seeds

sizes = st.integers(min_value=1, max_value=40)
batch_sizes = st.integers(min_value=1, max_value=12)


def toy_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 2, generator=g)  # (n, 3, 2): samples need not be vectors
    y = torch.randint(0, 5, (n,), generator=g)  # (n,)
    return x, y


def assert_same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert len(a) == len(b)
        for field_a, field_b in zip(a, b, strict=True):
            assert field_a.dtype == field_b.dtype
            assert torch.equal(field_a, field_b)


@given(n=sizes, batch_size=batch_sizes, drop_last=st.booleans(), seed=seeds())
def test_sequential_loader_equals_torch(n, batch_size, drop_last, seed):
    x, y = toy_data(n, seed)
    ours = DataLoader(TensorDataset(x, y), batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(tud.TensorDataset(x, y), batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same_batches(ours, theirs)


@given(n=sizes, batch_size=batch_sizes, drop_last=st.booleans(), seed=seeds())
def test_same_sampler_gives_identical_batches_every_epoch(n, batch_size, drop_last, seed):
    x, y = toy_data(n, seed)
    sampler_ours = RandomSampler(n, torch.Generator().manual_seed(seed))
    sampler_theirs = RandomSampler(n, torch.Generator().manual_seed(seed))  # torch uses ours
    ours = DataLoader(TensorDataset(x, y), batch_size, sampler=sampler_ours, drop_last=drop_last)
    theirs = tud.DataLoader(
        tud.TensorDataset(x, y), batch_size, sampler=sampler_theirs, drop_last=drop_last
    )
    for _ in range(3):  # epochs
        assert_same_batches(ours, theirs)


@given(n=sizes, seed=seeds())
def test_first_epoch_of_random_sampler_equals_torch_random_sampler(n, seed):
    ours = RandomSampler(n, torch.Generator().manual_seed(seed))
    theirs = tud.RandomSampler(range(n), generator=torch.Generator().manual_seed(seed))
    assert list(ours) == list(theirs)


@given(n=sizes, batch_size=batch_sizes, seed=seeds())
def test_shuffled_epochs_visit_every_sample_once_and_are_reproducible(n, batch_size, seed):
    x, y = toy_data(n, seed)
    ds = TensorDataset(torch.arange(n), y)

    def epochs(seed):
        loader = DataLoader(
            ds, batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)
        )
        return [torch.cat([idx for idx, _ in loader]) for _ in range(3)]

    first, again = epochs(seed), epochs(seed)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)
        assert sorted(a.tolist()) == list(range(n))


@given(n=sizes, batch_size=batch_sizes, drop_last=st.booleans())
def test_batch_sampler_equals_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(n), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


def test_last_partial_batch_is_kept_or_dropped():
    sizes_kept = [len(b) for b in BatchSampler(SequentialSampler(10), 4)]
    sizes_dropped = [len(b) for b in BatchSampler(SequentialSampler(10), 4, drop_last=True)]
    assert sizes_kept == [4, 4, 2]
    assert sizes_dropped == [4, 4]


@pytest.mark.filterwarnings("ignore:Length of split at index")  # torch warns on empty parts
@given(n=sizes, seed=seeds(), k=st.integers(min_value=0, max_value=40))
def test_random_split_equals_torch(n, seed, k):
    lengths = [min(k, n), n - min(k, n)]
    ds = TensorDataset(torch.arange(n))
    ours = random_split(ds, lengths, torch.Generator().manual_seed(seed))
    theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(seed))
    for a, b in zip(ours, theirs, strict=True):
        assert a.indices == list(b.indices)
        assert [int(a[i][0]) for i in range(len(a))] == list(b)


def test_subset_indexes_through():
    ds = TensorDataset(torch.arange(10) * 10)
    sub = Subset(ds, [3, 1, 4])
    assert len(sub) == 3 and [int(sub[i][0]) for i in range(3)] == [30, 10, 40]


@given(seed=seeds(), b=st.integers(min_value=1, max_value=6))
def test_collate_matches_default_collate_on_mixed_samples(seed, b):
    g = torch.Generator().manual_seed(seed)
    samples = [
        (torch.randn(2, 3, generator=g), int(torch.randint(0, 9, (), generator=g)), 0.5 * i)
        for i in range(b)
    ]
    ours = collate(samples)
    theirs = tud.default_collate(samples)
    assert isinstance(ours, tuple) and len(ours) == len(theirs) == 3
    for a, t in zip(ours, theirs, strict=True):
        assert a.dtype == t.dtype and torch.equal(a, t)
    assert ours[0].shape == (b, 2, 3)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="same number of rows"):
        TensorDataset(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="seeded generator"):
        DataLoader(TensorDataset(torch.zeros(3)), 2, shuffle=True)
    with pytest.raises(ValueError, match="not both"):
        DataLoader(TensorDataset(torch.zeros(3)), 2, shuffle=True, sampler=[0, 1, 2])
    with pytest.raises(ValueError, match="add up to"):
        random_split(TensorDataset(torch.zeros(3)), [1, 1], torch.Generator())
    with pytest.raises(ValueError, match="different shapes"):
        collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(ValueError, match="at least 1"):
        BatchSampler(SequentialSampler(3), 0)
