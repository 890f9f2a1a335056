"""Tests for fromscratch.losses.

Oracles: torch's softmax, log_softmax, logsumexp, nll_loss and cross_entropy for the forward
passes; autograd and central finite differences (fromscratch.gradcheck, float64) for the
hand-derived gradient of the cross-entropy.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.gradcheck import check_gradients
from fromscratch.losses import (
    cross_entropy,
    cross_entropy_backward,
    log_softmax,
    logsumexp,
    nll_loss,
    one_hot,
    softmax,
    softmax_naive,
)
from strategies import random_tensor, seeds, small_dim

# Logit scales from tame to far beyond float32's exp overflow (about 88.7).
scales = st.sampled_from([1.0, 30.0, 1000.0])


def logits_and_labels(n, c, seed, scale=1.0, contiguous=True, dtype=torch.float64):
    z = scale * random_tensor((n, c), seed, contiguous=contiguous, dtype=dtype)  # (n, C)
    y = torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))  # (n,)
    return z, y


@given(n=small_dim, c=small_dim, seed=seeds(), scale=scales, contiguous=st.booleans())
def test_softmax_family_matches_torch_even_for_huge_logits(n, c, seed, scale, contiguous):
    z, _ = logits_and_labels(n, c, seed, scale, contiguous, dtype=torch.float32)
    for dim in (0, 1, -1):
        torch.testing.assert_close(softmax(z, dim), torch.softmax(z, dim))
        torch.testing.assert_close(log_softmax(z, dim), torch.log_softmax(z, dim))
        torch.testing.assert_close(logsumexp(z, dim), torch.logsumexp(z, dim))
        torch.testing.assert_close(
            logsumexp(z, dim, keepdim=True), torch.logsumexp(z, dim, keepdim=True)
        )
    assert torch.isfinite(log_softmax(z)).all()


def test_naive_softmax_overflows_in_float32_and_the_shifted_one_does_not():
    z = torch.tensor([[100.0, 90.0, 80.0]])  # exp(100) > float32 max ~ 3.4e38
    assert torch.isnan(softmax_naive(z)).any()
    torch.testing.assert_close(softmax(z), torch.softmax(z, dim=1))
    # Underflow: log(softmax) of a tiny probability is -inf, log_softmax stays finite.
    w = torch.tensor([[0.0, -200.0]])
    assert torch.isinf(softmax(w).log()).any()
    torch.testing.assert_close(log_softmax(w), torch.tensor([[0.0, -200.0]]))


def test_logsumexp_of_infinite_rows_is_infinite_not_nan():
    x = torch.tensor([[-float("inf"), -float("inf")], [float("inf"), 0.0]])
    torch.testing.assert_close(logsumexp(x), torch.logsumexp(x, dim=-1))


@given(n=small_dim, c=small_dim, seed=seeds(), scale=scales, contiguous=st.booleans())
def test_cross_entropy_and_nll_match_torch(n, c, seed, scale, contiguous):
    z, y = logits_and_labels(n, c, seed, scale, contiguous)
    torch.testing.assert_close(cross_entropy(z, y), F.cross_entropy(z, y))
    logp = torch.log_softmax(z, dim=1)
    torch.testing.assert_close(nll_loss(logp, y), F.nll_loss(logp, y))


@given(n=small_dim, c=small_dim, seed=seeds())
def test_nll_picks_one_entry_per_row(n, c, seed):
    logp, y = logits_and_labels(n, c, seed)
    by_hand = -sum(logp[i, int(y[i])] for i in range(n)) / n  # the definition, row by row
    torch.testing.assert_close(nll_loss(logp, y), by_hand)


@given(n=small_dim, c=small_dim, seed=seeds(), scale=st.sampled_from([1.0, 30.0]))
def test_cross_entropy_backward_matches_autograd(n, c, seed, scale):
    z, y = logits_and_labels(n, c, seed, scale)
    leaf = z.clone().requires_grad_(True)
    F.cross_entropy(leaf, y).backward()
    grad = cross_entropy_backward(z, y)
    assert grad.shape == z.shape
    torch.testing.assert_close(grad, leaf.grad)
    torch.testing.assert_close(grad.sum(dim=1), torch.zeros(n, dtype=z.dtype))  # rows sum to 0


@given(n=small_dim, c=small_dim, seed=seeds(), contiguous=st.booleans())
def test_cross_entropy_backward_passes_finite_differences(n, c, seed, contiguous):
    z, y = logits_and_labels(n, c, seed, contiguous=contiguous)
    check_gradients(lambda z: cross_entropy(z, y), [z], [cross_entropy_backward(z, y)], tol=1e-7)


def test_cross_entropy_backward_is_not_fooled_by_a_wrong_formula():
    """The finite-difference oracle rejects the gradient without the 1/n."""
    z, y = logits_and_labels(4, 3, seed=0)
    wrong = cross_entropy_backward(z, y) * 4
    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradients(lambda z: cross_entropy(z, y), [z], [wrong])


@given(n=small_dim, c=small_dim, seed=seeds())
def test_one_hot_matches_torch(n, c, seed):
    _, y = logits_and_labels(n, c, seed)
    torch.testing.assert_close(one_hot(y, c), F.one_hot(y, c).float())


def test_uniform_logits_give_log_c():
    z = torch.zeros(5, 10)
    y = torch.arange(5)
    torch.testing.assert_close(cross_entropy(z, y), torch.tensor(10.0).log())


def test_errors_are_clear():
    z = torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"shape \(n, C\)"):
        cross_entropy(torch.zeros(3), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"labels must have shape \(n,\) = \(4,\)"):
        cross_entropy(z, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64"):
        cross_entropy(z, torch.zeros(4))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        nll_loss(z, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="floating point"):
        cross_entropy(torch.zeros(4, 3, dtype=torch.int64), torch.zeros(4, dtype=torch.int64))
