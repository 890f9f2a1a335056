"""Tests for fromscratch.gradcheck.

Oracles: closed-form gradients (sum of squares -> 2x, sum of sin -> cos, a product -> the other
factor), closed-form relative errors, and torch.autograd.gradcheck's verdict.
"""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.gradcheck import (
    autograd_gradcheck,
    check_gradients,
    finite_difference_grads,
    relative_errors,
)
from strategies import random_tensor, seeds, small_dim

shapes = st.lists(small_dim, min_size=0, max_size=3).map(tuple)


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_sum_of_squares_gives_two_x(shape, seed, contiguous):
    x = random_tensor(shape, seed, contiguous=contiguous)
    (grad,) = finite_difference_grads(lambda x: (x**2).sum(), [x])
    assert grad.shape == x.shape and grad.dtype == torch.float64
    # Central differences are exact for quadratics: only rounding is left, about
    # machine_eps * |f| / eps = 1.1e-16 * |f| / 1e-6 per entry; allow 10 times that.
    atol = 1e-9 * max(1.0, (x**2).sum().item())
    torch.testing.assert_close(grad, 2 * x, rtol=0, atol=atol)


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_float32_inputs_are_differentiated_in_float64(shape, seed, contiguous):
    x = random_tensor(shape, seed, contiguous=contiguous, dtype=torch.float32)
    (grad,) = finite_difference_grads(lambda x: torch.sin(x).sum(), x)  # one tensor is fine
    assert grad.dtype == torch.float64
    # In float32, eps = 1e-6 is only ~8 spacings of the numbers near 1 (1.2e-7 each),
    # so the error would be ~0.1; in float64 truncation (eps^2/6 ~ 2e-13) and rounding
    # (1.1e-16 * |f| / eps, |f| <= number of entries) are both tiny.
    atol = 1e-9 * max(1.0, x.numel())
    torch.testing.assert_close(grad, torch.cos(x.double()), rtol=0, atol=atol)


@given(n=small_dim, seed=seeds())
def test_two_parameters_of_a_product(n, seed):
    a, b = random_tensor((n,), seed), random_tensor((n,), seed + 1)
    grad_a, grad_b = finite_difference_grads(lambda a, b: (a * b).sum(), [a, b])
    torch.testing.assert_close(grad_a, b, rtol=0, atol=1e-8)
    torch.testing.assert_close(grad_b, a, rtol=0, atol=1e-8)


def test_parameters_are_not_modified():
    x = torch.tensor([1.0, -2.0, 3.0])
    before = x.clone()
    finite_difference_grads(lambda x: (x**3).sum(), [x])
    assert torch.equal(x, before)


def test_non_scalar_function_is_rejected():
    with pytest.raises(ValueError, match="scalar"):
        finite_difference_grads(lambda x: x * 2, [torch.ones(3)])


@given(shape=shapes, seed=seeds())
def test_relative_error_closed_forms(shape, seed):
    n = random_tensor(shape, seed)
    assert relative_errors([n], [n]) == [0.0]
    # ||2n - n|| / (||2n|| + ||n||) = 1/3 and ||-n - n|| / (2 ||n||) = 1 for any nonzero n.
    (third,) = relative_errors([2 * n], [n])
    (opposite,) = relative_errors([-n], [n])
    assert math.isclose(third, 1 / 3, rel_tol=1e-12)
    assert math.isclose(opposite, 1.0, rel_tol=1e-12)


def test_relative_error_of_two_zeros_is_zero():
    assert relative_errors([torch.zeros(3)], [torch.zeros(3)]) == [0.0]


def test_relative_errors_reject_mismatched_inputs():
    with pytest.raises(ValueError, match="one of each"):
        relative_errors([torch.zeros(3)], [])
    with pytest.raises(ValueError, match="shape"):
        relative_errors([torch.zeros(3)], [torch.zeros(1, 3)])


def test_check_gradients_accepts_correct_and_reports_each_parameter():
    w, b = random_tensor((3, 2), 0), random_tensor((2,), 1)
    x = random_tensor((4, 3), 2)
    f = lambda w, b: ((x @ w + b) ** 2).sum()
    z = x @ w + b  # (4, 2)
    errors = check_gradients(f, [w, b], [x.T @ (2 * z), (2 * z).sum(0)], names=["w", "b"])
    assert list(errors) == ["w", "b"]
    assert max(errors.values()) < 1e-8


def test_check_gradients_names_the_wrong_parameter():
    w, b = random_tensor((3, 2), 0), random_tensor((2,), 1)
    x = random_tensor((4, 3), 2)
    f = lambda w, b: ((x @ w + b) ** 2).sum()
    z = x @ w + b
    wrong_w = x.T @ z  # the factor 2 forgotten: relative error exactly 1/3
    with pytest.raises(AssertionError, match=r"'w' has relative error 3\.33e-01"):
        check_gradients(f, [w, b], [wrong_w, (2 * z).sum(0)], names=["w", "b"])


def test_check_gradients_flags_a_transposed_gradient():
    w = random_tensor((3, 3), 5)
    x = random_tensor((4, 3), 6)
    f = lambda w: (x @ w).pow(2).sum()
    right = x.T @ (2 * (x @ w))
    assert check_gradients(f, [w], [right])["param0"] < 1e-8
    with pytest.raises(AssertionError, match="param0"):
        check_gradients(f, [w], [right.T])


class _SquareWithWrongBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * x  # should be 2 * x


def test_autograd_gradcheck_passes_torch_ops_and_casts_to_float64():
    x = torch.randn(3, 4)  # float32 and no requires_grad: the wrapper fixes both
    assert autograd_gradcheck(lambda x: torch.tanh(x) @ x.T, x) is True
    assert x.dtype == torch.float32 and not x.requires_grad


def test_autograd_gradcheck_explains_a_wrong_backward():
    with pytest.raises(AssertionError, match="_SquareWithWrongBackward.apply"):
        autograd_gradcheck(_SquareWithWrongBackward.apply, (torch.randn(3),))
    # torch's own verdict, the oracle: it rejects the same function.
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert not torch.autograd.gradcheck(_SquareWithWrongBackward.apply, (x,), raise_exception=False)


def test_autograd_gradcheck_passes_non_tensor_inputs_through():
    x = torch.randn(5)
    assert autograd_gradcheck(lambda x, k: x.pow(k).sum(), (x, 3))
