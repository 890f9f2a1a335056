"""Datasets and data loaders from scratch, following the protocol of ``torch.utils.data``.

A *dataset* is anything with ``len(ds)`` and ``ds[i]`` (the indexing protocol); here a sample
is a tuple such as ``(x_i, y_i)``. A *sampler* is an iterable of indices that says in which
order to visit the samples, and a *batch sampler* groups those indices into lists of
``batch_size``. A *loader* fetches the samples of each batch and *collates* them: the ``b``
tuples ``(x_i, y_i)`` become one tuple ``(X, Y)`` of stacked tensors with a new leading batch
dimension, ``X`` of shape ``(b, ...)``.

Given the same order of indices, :class:`DataLoader` yields exactly the batches of
``torch.utils.data.DataLoader`` (tested). Random samplers take a seeded ``torch.Generator``
so that every run visits the samples in the same order.

Taught in: chapter 9, A complete classifier (section "Data: Dataset and DataLoader").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import torch


class Dataset(Protocol):
    """What a loader needs from a dataset: a length and integer indexing."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class TensorDataset:
    """Samples are the rows of tensors that share their first dimension.

    ``TensorDataset(x, y)[i]`` is ``(x[i], y[i])``. Like ``torch.utils.data.TensorDataset``.

    Taught in: chapter 9, A complete classifier.
    """

    def __init__(self, *tensors: torch.Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(x, y).")
        n = tensors[0].shape[0]
        for i, t in enumerate(tensors):
            if t.shape[0] != n:
                raise ValueError(
                    f"all tensors must have the same number of rows (samples); tensor 0 has "
                    f"{n} and tensor {i} has {t.shape[0]}."
                )
        self.tensors = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)


class Subset:
    """The samples of ``dataset`` at ``indices``, in order: ``Subset(ds, idx)[k] = ds[idx[k]]``.

    Taught in: chapter 9, A complete classifier (section "Train, validation and test").
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]


def random_split(
    dataset: Dataset, lengths: Sequence[int], generator: torch.Generator
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    One random permutation of all indices is drawn from ``generator`` and cut into
    consecutive pieces, which is what ``torch.utils.data.random_split`` does with integer
    lengths: the same seed gives the same subsets (tested).

    Args:
        dataset: any dataset.
        lengths: one length per subset; they must add up to ``len(dataset)``.
        generator: a seeded ``torch.Generator``.

    Taught in: chapter 9, A complete classifier (section "Train, validation and test").
    """
    if any(length < 0 for length in lengths) or sum(lengths) != len(dataset):
        raise ValueError(
            f"lengths {list(lengths)} must be non-negative and add up to len(dataset) = "
            f"{len(dataset)}."
        )
    perm = torch.randperm(len(dataset), generator=generator).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, perm[start : start + length]))
        start += length
    return subsets


class SequentialSampler:
    """The indices ``0, 1, ..., n - 1`` in order, every epoch."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


class RandomSampler:
    """A fresh random permutation of ``0..n-1`` at every iteration (every epoch).

    Each ``iter(sampler)`` draws ``torch.randperm(n, generator=generator)``, so a seeded
    generator makes the sequence of epochs reproducible. The first epoch equals that of
    ``torch.utils.data.RandomSampler`` with an identically seeded generator; later epochs
    differ because torch's sampler draws from its generator once more per epoch.

    Taught in: chapter 9, A complete classifier (section "Data: Dataset and DataLoader").
    """

    def __init__(self, n: int, generator: torch.Generator) -> None:
        if generator is None:
            raise ValueError(
                "RandomSampler needs a seeded generator so that the order is reproducible; "
                "pass generator=torch.Generator().manual_seed(seed)."
            )
        self.n = n
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(self.n, generator=self.generator).tolist())

    def __len__(self) -> int:
        return self.n


class BatchSampler:
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    The last batch holds the ``n % batch_size`` leftovers, or is dropped if ``drop_last``.

    Taught in: chapter 9, A complete classifier (section "Data: Dataset and DataLoader").
    """

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch  # the last, partial batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def collate(samples: Sequence[Any]) -> Any:
    """Merge a list of ``b`` samples into one batch with a new leading dimension of size ``b``.

    Tensors of equal shape ``s`` are stacked to shape ``(b, *s)``; Python ints and floats
    become a tensor of shape ``(b,)`` (int64 or float64, as in torch's ``default_collate``);
    tuples and lists of fields are collated field by field, so ``b`` pairs ``(x_i, y_i)``
    become one pair ``(X, Y)``: a tuple for tuples, a list for lists. (torch's
    ``default_collate`` returns a list for both; the tensors inside are the same.)

    Taught in: chapter 9, A complete classifier (section "Data: Dataset and DataLoader").
    """
    if len(samples) == 0:
        raise ValueError("cannot collate an empty batch.")
    first = samples[0]
    if isinstance(first, torch.Tensor):
        shapes = {tuple(s.shape) for s in samples}
        if len(shapes) > 1:
            raise ValueError(
                f"cannot stack samples of different shapes {sorted(shapes)} into one batch; "
                f"pad them to one shape or pass your own collate_fn."
            )
        return torch.stack(list(samples))  # b tensors of shape s -> (b, *s)
    if isinstance(first, float):
        return torch.tensor(samples, dtype=torch.float64)  # (b,), as torch collates floats
    if isinstance(first, bool | int):
        return torch.tensor(samples)  # (b,) int64 (or bool)
    if isinstance(first, tuple | list):
        fields = [collate([s[k] for s in samples]) for k in range(len(first))]  # transpose
        return type(first)(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"do not know how to collate samples of type {type(first).__name__}.")


class DataLoader:
    """Iterate over a dataset in batches: sampler -> batch sampler -> fetch -> collate.

    Args:
        dataset: anything with ``len`` and integer indexing.
        batch_size: samples per batch.
        shuffle: visit the samples in a new random order every epoch (needs ``generator``).
        sampler: an iterable of indices to use instead (``shuffle`` must then be false).
        drop_last: drop the last batch if it has fewer than ``batch_size`` samples.
        collate_fn: merges a list of samples into a batch (default :func:`collate`).
        generator: a seeded ``torch.Generator`` for ``shuffle=True``.

    Taught in: chapter 9, A complete classifier (section "Data: Dataset and DataLoader").
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        *,
        shuffle: bool = False,
        sampler: Any = None,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] = collate,
        generator: torch.Generator | None = None,
    ) -> None:
        if sampler is not None and shuffle:
            raise ValueError("pass either a sampler or shuffle=True, not both.")
        if sampler is None:
            sampler = (
                RandomSampler(len(dataset), generator)
                if shuffle
                else SequentialSampler(len(dataset))
            )
        self.dataset = dataset
        self.sampler = sampler
        self.batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator[Any]:
        for indices in self.batch_sampler:  # a new order each epoch, if the sampler shuffles
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        return len(self.batch_sampler)
