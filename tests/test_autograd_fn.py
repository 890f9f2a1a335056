"""Tests for fromscratch.autograd_fn: torch.relu / torch.sigmoid and gradcheck are the oracles."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.autograd_fn import ReLUFunction, SigmoidFunction, relu, sigmoid
from strategies import random_tensor, seeds, small_dim

shapes = st.lists(small_dim, min_size=0, max_size=3).map(tuple)


def away_from_kink(x: torch.Tensor, margin: float = 1e-2) -> torch.Tensor:
    """Push entries with |x| < margin out to +-margin, so finite differences of relu are valid."""
    sign = torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
    return torch.where(x.abs() < margin, sign * margin, x)


def autograd_grad(fn, x: torch.Tensor, upstream: torch.Tensor) -> torch.Tensor:
    """dL/dx for L = sum(upstream * fn(x)), computed by autograd on a fresh leaf."""
    leaf = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((fn(leaf) * upstream).sum(), leaf)
    return grad


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_relu_matches_torch_forward_and_backward(shape, seed, contiguous):
    x = random_tensor(shape, seed, contiguous=contiguous)
    upstream = random_tensor(shape, seed + 1)
    torch.testing.assert_close(relu(x), torch.relu(x), rtol=0, atol=0)
    torch.testing.assert_close(
        autograd_grad(relu, x, upstream), autograd_grad(torch.relu, x, upstream), rtol=0, atol=0
    )


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    expected = autograd_grad(torch.relu, x, torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(autograd_grad(relu, x, torch.ones(3, dtype=torch.float64)), expected)
    assert expected[1] == 0.0  # the convention we copy: subgradient 0 at the kink


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_relu_passes_gradcheck_away_from_kink(shape, seed, contiguous):
    x = away_from_kink(random_tensor(shape, seed, contiguous=contiguous)).requires_grad_(True)
    assert torch.autograd.gradcheck(relu, (x,), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_relu_gradcheck_fails_at_the_kink():
    # A central difference straddling 0 sees slope 1/2, the analytic backward says 0.
    x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    assert not torch.autograd.gradcheck(relu, (x,), eps=1e-6, raise_exception=False)


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_sigmoid_matches_torch_forward_and_backward(shape, seed, contiguous):
    x = 5 * random_tensor(shape, seed, contiguous=contiguous)
    upstream = random_tensor(shape, seed + 1)
    torch.testing.assert_close(sigmoid(x), torch.sigmoid(x))
    torch.testing.assert_close(
        autograd_grad(sigmoid, x, upstream), autograd_grad(torch.sigmoid, x, upstream)
    )


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_sigmoid_passes_gradcheck_and_gradgradcheck(shape, seed, contiguous):
    x = random_tensor(shape, seed, contiguous=contiguous).requires_grad_(True)
    assert torch.autograd.gradcheck(sigmoid, (x,), eps=1e-6, atol=1e-8, rtol=1e-6)
    assert torch.autograd.gradgradcheck(sigmoid, (x,), eps=1e-6, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sigmoid_is_stable_for_huge_inputs(dtype):
    x = torch.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    torch.testing.assert_close(sigmoid(x), torch.sigmoid(x))
    grad = autograd_grad(sigmoid, x, torch.ones_like(x))
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(grad, autograd_grad(torch.sigmoid, x, torch.ones_like(x)))


def test_backward_returns_input_shaped_gradient_for_noncontiguous_upstream():
    x = random_tensor((4, 3), 0, contiguous=False).requires_grad_(True)
    upstream = random_tensor((4, 3), 1, contiguous=False)
    relu(x).backward(upstream)
    torch.testing.assert_close(x.grad, upstream * (x.detach() > 0))


@pytest.mark.parametrize("function", [ReLUFunction.apply, SigmoidFunction.apply])
def test_integer_input_raises_a_clear_error(function):
    with pytest.raises(ValueError, match="floating-point"):
        function(torch.tensor([1, -2, 3]))
