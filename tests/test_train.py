"""Tests for fromscratch.train: every helper is checked against torch or a hand count."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from fromscratch.train import (
    accuracy,
    adam_step_,
    evaluate,
    fit,
    l2_penalty,
    minibatches,
    sgd_step_,
    train_epoch,
)
from strategies import random_tensor, seeds, small_dim

lrs = st.floats(min_value=1e-4, max_value=2.0)


def _leaf_params(shapes, seed: int) -> list[torch.Tensor]:
    """Leaf tensors with random values and random (non-contiguous) grads."""
    params = []
    for k, shape in enumerate(shapes):
        p = random_tensor(shape, seed + k).clone().requires_grad_(True)
        p.grad = random_tensor(shape, seed + 100 + k, contiguous=False)
        params.append(p)
    return params


def _clone_with_grads(params: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for p in params:
        q = p.detach().clone().requires_grad_(True)
        q.grad = p.grad.clone()
        out.append(q)
    return out


shape_lists = st.lists(st.tuples(small_dim, small_dim), min_size=1, max_size=3)


# --- minibatches -------------------------------------------------------------------------


@given(n=st.integers(0, 60), batch_size=st.integers(1, 70), seed=seeds())
def test_minibatches_cover_every_index_once(n, batch_size, seed):
    g = torch.Generator().manual_seed(seed)
    batches = list(minibatches(n, batch_size, g))
    sizes = [len(b) for b in batches]
    # Closed form for the batch sizes: full batches, then the remainder if any.
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected
    joined = torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)
    assert torch.equal(joined.sort().values, torch.arange(n))


@given(n=st.integers(1, 60), batch_size=st.integers(1, 20), seed=seeds())
def test_minibatches_are_deterministic_for_a_seed(n, batch_size, seed):
    first = list(minibatches(n, batch_size, torch.Generator().manual_seed(seed)))
    again = list(minibatches(n, batch_size, torch.Generator().manual_seed(seed)))
    assert len(first) == len(again)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    # and the order is torch.randperm's order for that seed (independent oracle)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(torch.cat(first), perm)


def test_minibatches_new_order_each_epoch_and_in_order_without_shuffle():
    g = torch.Generator().manual_seed(0)
    epoch1 = torch.cat(list(minibatches(50, 7, g)))
    epoch2 = torch.cat(list(minibatches(50, 7, g)))
    assert not torch.equal(epoch1, epoch2)  # the generator advanced
    in_order = torch.cat(list(minibatches(50, 7, shuffle=False)))
    assert torch.equal(in_order, torch.arange(50))


def test_minibatches_errors_are_clear():
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(10, 0, torch.Generator()))
    with pytest.raises(ValueError, match="Generator"):
        list(minibatches(10, 3))


# --- sgd_step_ ------------------------------------------------------------------------------


@given(shapes=shape_lists, seed=seeds(), lr=lrs)
def test_sgd_step_is_bit_identical_to_torch_sgd(shapes, seed, lr):
    ours = _leaf_params(shapes, seed)
    theirs = _clone_with_grads(ours)
    sgd_step_(ours, lr)
    torch.optim.SGD(theirs, lr=lr).step()
    for p, q in zip(ours, theirs, strict=True):
        assert torch.equal(p, q)
        assert torch.equal(p.grad, torch.zeros_like(p))  # and the grad was zeroed


def test_sgd_step_several_steps_match_torch_sgd_on_a_model():
    torch.manual_seed(1)
    model_a = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    model_b = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    model_b.load_state_dict(model_a.state_dict())
    opt = torch.optim.SGD(model_b.parameters(), lr=0.3)
    x, y = random_tensor((8, 5), 3, dtype=torch.float32), random_tensor((8, 3), 4).float()
    for _ in range(5):
        nn.functional.mse_loss(model_a(x), y).backward()
        sgd_step_(model_a.parameters(), lr=0.3)
        opt.zero_grad()
        nn.functional.mse_loss(model_b(x), y).backward()
        opt.step()
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_sgd_step_skips_params_without_grad_and_rejects_bad_lr():
    p = torch.ones(3, requires_grad=True)
    sgd_step_([p], lr=0.1)  # p.grad is None: nothing to do
    assert torch.equal(p, torch.ones(3))
    with pytest.raises(ValueError, match="lr"):
        sgd_step_([p], lr=0.0)


# --- adam_step_ -----------------------------------------------------------------------------


@given(
    shapes=shape_lists,
    seed=seeds(),
    lr=st.floats(1e-4, 0.5),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
)
def test_adam_step_matches_torch_adam_over_several_steps(shapes, seed, lr, beta1, beta2):
    ours = _leaf_params(shapes, seed)
    theirs = _clone_with_grads(ours)
    opt = torch.optim.Adam(theirs, lr=lr, betas=(beta1, beta2), eps=1e-8)
    state: dict = {}
    for step in range(4):
        # a fresh gradient each step, the same for both copies
        for k, (p, q) in enumerate(zip(ours, theirs, strict=True)):
            g = random_tensor(tuple(p.shape), seed + 1000 * step + k, contiguous=False)
            p.grad, q.grad = g.clone(), g.clone()
        adam_step_(ours, state, lr=lr, betas=(beta1, beta2), eps=1e-8)
        opt.step()
    assert state["step"] == 4
    for p, q in zip(ours, theirs, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12)


def test_adam_first_step_moves_each_coordinate_by_lr():
    # Closed form: at t=1, m_hat = g and v_hat = g^2, so the step is lr * sign(g) (eps -> 0).
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([3.0, -0.01, 250.0, -7.0], dtype=torch.float64)
    adam_step_([p], {}, lr=0.1, eps=0.0)
    torch.testing.assert_close(p.detach(), -0.1 * p.grad.sign())


# --- l2_penalty and weight decay --------------------------------------------------------------


@given(shapes=shape_lists, seed=seeds(), lam=st.floats(0.0, 5.0))
def test_l2_penalty_gradient_is_weight_decay_times_param(shapes, seed, lam):
    params = [random_tensor(s, seed + k).requires_grad_(True) for k, s in enumerate(shapes)]
    penalty = l2_penalty(params, lam)
    # value: closed form with torch's own norm
    expected = 0.5 * lam * sum(torch.linalg.vector_norm(p) ** 2 for p in params)
    torch.testing.assert_close(penalty, expected.detach())
    grads = torch.autograd.grad(penalty, params)
    for p, g in zip(params, grads, strict=True):
        torch.testing.assert_close(g, lam * p.detach())


@given(shapes=shape_lists, seed=seeds(), lam=st.floats(1e-3, 2.0), lr=lrs)
def test_sgd_weight_decay_equals_half_lambda_squared_norm_in_the_loss(shapes, seed, lam, lr):
    w1 = [random_tensor(s, seed + k).requires_grad_(True) for k, s in enumerate(shapes)]
    w2 = [p.detach().clone().requires_grad_(True) for p in w1]
    targets = [random_tensor(s, seed + 50 + k, contiguous=False) for k, s in enumerate(shapes)]

    def data_loss(ws):
        return sum(((w - t) ** 3).abs().sum() for w, t in zip(ws, targets, strict=True))

    opt1 = torch.optim.SGD(w1, lr=lr, weight_decay=lam)
    data_loss(w1).backward()
    opt1.step()
    opt2 = torch.optim.SGD(w2, lr=lr)  # no weight_decay, penalty in the loss instead
    (data_loss(w2) + l2_penalty(w2, lam)).backward()
    opt2.step()
    for p, q in zip(w1, w2, strict=True):
        torch.testing.assert_close(p, q)


# --- accuracy, evaluate ---------------------------------------------------------------------


@given(n=st.integers(1, 30), c=st.integers(2, 6), seed=seeds())
def test_accuracy_matches_a_hand_count(n, c, seed):
    logits = random_tensor((n, c), seed, contiguous=False)
    labels = torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))
    correct = 0
    for row, label in zip(logits.tolist(), labels.tolist(), strict=True):
        best = max(range(c), key=lambda j: (row[j], -j))  # first index of the max
        correct += best == label
    assert accuracy(logits, labels) == pytest.approx(correct / n)


def test_accuracy_small_example_and_errors():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.1, 0.2]])
    labels = torch.tensor([0, 1, 1, 0])
    assert accuracy(logits, labels) == 0.5
    with pytest.raises(ValueError, match="shape"):
        accuracy(logits, labels[:3])
    with pytest.raises(ValueError, match="integer"):
        accuracy(logits, labels.float())


def test_evaluate_matches_direct_computation_and_restores_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 5))
    x = random_tensor((20, 3), 1, dtype=torch.float32)
    y = torch.randint(0, 5, (20,), generator=torch.Generator().manual_seed(2))
    model.train()
    loss, acc = evaluate(model, nn.functional.cross_entropy, x, y)
    assert model.training
    model.eval()  # the oracle: the same forward in eval mode (dropout off)
    logits = model(x)
    assert loss == pytest.approx(nn.functional.cross_entropy(logits, y).item())
    assert acc == pytest.approx((logits.argmax(1) == y).float().mean().item())


# --- train_epoch, fit ----------------------------------------------------------------------


@given(n=st.integers(1, 40), batch_size=st.integers(1, 16), seed=seeds())
def test_train_epoch_returns_the_full_data_mean_loss_when_nothing_moves(n, batch_size, seed):
    # With lr = 0 the parameters never change, so the size-weighted mean of the batch losses
    # must equal the mean loss over the whole data set, however the last batch is cut.
    torch.manual_seed(seed % 1000)
    model = nn.Linear(3, 2).double()
    x, y = random_tensor((n, 3), seed), random_tensor((n, 2), seed + 1, contiguous=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    g = torch.Generator().manual_seed(seed)
    mean_loss = train_epoch(model, nn.functional.mse_loss, opt, x, y, batch_size, g)
    expected = nn.functional.mse_loss(model(x), y).item()
    assert mean_loss == pytest.approx(expected, rel=1e-12)


def test_fit_reaches_full_accuracy_on_separable_data_and_calls_progress():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])  # (3, 2)
    labels = torch.arange(3).repeat(20)  # (60,)
    x = centres[labels] + 0.3 * torch.randn(60, 2, generator=g)  # (60, 2): separable blobs
    torch.manual_seed(0)
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    seen = []

    def progress(it):
        for e in it:
            seen.append(e)
            yield e

    history = fit(
        model,
        nn.functional.cross_entropy,
        opt,
        (x[:45], labels[:45], x[45:], labels[45:]),
        epochs=15,
        batch_size=8,
        generator=torch.Generator().manual_seed(1),
        progress=progress,
    )
    assert seen == list(range(15))
    assert set(history) == {"train_loss", "test_loss", "train_acc", "test_acc"}
    assert all(len(v) == 15 for v in history.values())
    assert history["train_acc"][-1] == 1.0
    assert history["test_acc"][-1] == 1.0
    # the recorded numbers are the evaluate() numbers for the final parameters
    final_loss, final_acc = evaluate(model, nn.functional.cross_entropy, x[:45], labels[:45])
    assert history["train_loss"][-1] == pytest.approx(final_loss)
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_fit_and_train_epoch_reject_mismatched_rows():
    model = nn.Linear(2, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.zeros(5, 2), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="same number of rows"):
        train_epoch(model, nn.functional.cross_entropy, opt, x, y, 2, torch.Generator())
    with pytest.raises(ValueError, match="epochs"):
        fit(
            model,
            nn.functional.cross_entropy,
            opt,
            (x, y, x, y),
            epochs=0,
            batch_size=2,
            generator=torch.Generator(),
        )
