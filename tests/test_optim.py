"""Tests for fromscratch.optim: each optimiser and schedule against torch.optim, step by step."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.optim import SGD, Adam, AdamW, step_lr, warmup_cosine_lr
from strategies import random_tensor, seeds, small_dim

shape_lists = st.lists(st.tuples(small_dim, small_dim), min_size=1, max_size=3)
STEPS = 12


def _params(shapes, seed: int) -> list[torch.Tensor]:
    return [random_tensor(s, seed + k).requires_grad_(True) for k, s in enumerate(shapes)]


def _run_pair(ours_cls, ours_kw, torch_cls, torch_kw, shapes, seed, *, dtype=torch.float64):
    """Run both optimisers for STEPS steps on the same gradients; return both parameter lists.

    The gradients at step t are those of a fixed random quadratic-plus-quartic loss at the
    current parameters, so each run sees its own trajectory, as it would in training.
    """
    ours = [p.detach().clone().to(dtype).requires_grad_(True) for p in _params(shapes, seed)]
    theirs = [p.detach().clone().requires_grad_(True) for p in ours]
    targets = [random_tensor(s, seed + 50 + k, dtype=dtype) for k, s in enumerate(shapes)]
    opt_a = ours_cls(ours, **ours_kw)
    opt_b = torch_cls(theirs, foreach=False, **torch_kw)
    for _ in range(STEPS):
        for params, opt in ((ours, opt_a), (theirs, opt_b)):
            opt.zero_grad()
            loss = sum(
                ((p - t) ** 2).sum() + 0.1 * (p**4).sum()
                for p, t in zip(params, targets, strict=True)
            )
            loss.backward()
            opt.step()
    return ours, theirs


def _assert_close(ours, theirs, ulps: float = 8.0):
    for a, b in zip(ours, theirs, strict=True):
        eps = torch.finfo(a.dtype).eps
        assert torch.allclose(a, b, rtol=ulps * eps, atol=ulps * eps), (a - b).abs().max()


@given(
    shapes=shape_lists,
    seed=seeds(),
    lr=st.floats(1e-3, 0.1),
    momentum=st.floats(0.0, 0.95),
    nesterov=st.booleans(),
    wd=st.sampled_from([0.0, 0.01]),
)
def test_sgd_matches_torch(shapes, seed, lr, momentum, nesterov, wd):
    nesterov = nesterov and momentum > 0
    kw = dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=wd)
    ours, theirs = _run_pair(SGD, kw, torch.optim.SGD, kw, shapes, seed)
    _assert_close(ours, theirs)


@given(shapes=shape_lists, seed=seeds(), momentum=st.floats(0.1, 0.95), nesterov=st.booleans())
def test_sgd_momentum_is_bit_identical_in_float32(shapes, seed, momentum, nesterov):
    kw = dict(lr=0.01, momentum=momentum, nesterov=nesterov)
    ours, theirs = _run_pair(SGD, kw, torch.optim.SGD, kw, shapes, seed, dtype=torch.float32)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize(
    ("ours_cls", "torch_cls"), [(Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)]
)
@given(
    shapes=shape_lists,
    seed=seeds(),
    lr=st.floats(1e-4, 0.1),
    beta1=st.floats(0.0, 0.95),
    beta2=st.floats(0.9, 0.9999),
    wd=st.sampled_from([0.0, 1e-2, 0.3]),
)
def test_adam_and_adamw_match_torch(ours_cls, torch_cls, shapes, seed, lr, beta1, beta2, wd):
    kw = dict(lr=lr, betas=(beta1, beta2), eps=1e-8, weight_decay=wd)
    ours, theirs = _run_pair(ours_cls, kw, torch_cls, kw, shapes, seed)
    _assert_close(ours, theirs, ulps=64.0)


def test_adamw_differs_from_adam_with_l2():
    """Decoupled decay is a different algorithm: same hyperparameters, different parameters."""
    kw = dict(lr=0.05, weight_decay=0.3)
    adamw, _ = _run_pair(AdamW, kw, torch.optim.AdamW, kw, [(3, 4)], 0)
    adam, _ = _run_pair(Adam, kw, torch.optim.Adam, kw, [(3, 4)], 0)
    assert (adamw[0] - adam[0]).abs().max() > 1e-3


def test_sgd_first_momentum_step_is_a_plain_step():
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    p.grad = torch.tensor([0.5, 0.25])
    SGD([p], lr=0.1, momentum=0.9).step()  # v_1 = g_1, so p - lr g
    assert torch.equal(p.detach(), torch.tensor([1.0, -2.0]) - 0.1 * torch.tensor([0.5, 0.25]))


@pytest.mark.parametrize(
    "bad",
    [
        dict(lr=0.0),
        dict(lr=0.1, momentum=1.0),
        dict(lr=0.1, nesterov=True),
        dict(lr=0.1, weight_decay=-1.0),
    ],
)
def test_sgd_rejects_bad_hyperparameters(bad):
    with pytest.raises(ValueError):
        SGD([torch.zeros(2, requires_grad=True)], **bad)


def test_optimisers_refuse_non_leaves():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="leaf"):
        Adam([w * 2])


@given(base=st.floats(1e-4, 1.0), step_size=st.integers(1, 10), gamma=st.floats(0.05, 0.99))
def test_step_lr_matches_torch_steplr_exactly(base, step_size, gamma):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    for t in range(40):
        assert opt.param_groups[0]["lr"] == step_lr(t, base, step_size, gamma)
        opt.step()
        sched.step()


@given(
    base=st.floats(1e-3, 1.0),
    warmup=st.integers(1, 10),
    extra=st.integers(2, 40),
    start=st.floats(0.01, 0.5),
)
def test_warmup_cosine_matches_torch_linear_then_cosine(base, warmup, extra, start):
    total = warmup + extra
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = torch.optim.lr_scheduler.SequentialLR(
        opt,
        [
            torch.optim.lr_scheduler.LinearLR(opt, start_factor=start, total_iters=warmup),
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=extra),
        ],
        milestones=[warmup],
    )
    for t in range(total + 1):
        theirs = opt.param_groups[0]["lr"]
        ours = warmup_cosine_lr(t, base, warmup, total, start_factor=start)
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12 * base), (t, ours, theirs)
        opt.step()
        sched.step()


def test_warmup_cosine_endpoints():
    assert warmup_cosine_lr(0, 1.0, 5, 20, start_factor=0.2) == pytest.approx(0.2)
    assert warmup_cosine_lr(5, 1.0, 5, 20) == 1.0
    assert warmup_cosine_lr(20, 1.0, 5, 20, min_lr=0.01) == 0.01
    with pytest.raises(ValueError):
        warmup_cosine_lr(0, 1.0, 20, 20)
