"""Tests for fromscratch.layers.

Oracles: torch's own ops for the forward passes; autograd and central finite differences
(fromscratch.gradcheck, float64) for every hand-written backward.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.gradcheck import check_gradients
from fromscratch.layers import (
    MSE,
    Linear,
    Model,
    ReLU,
    linear,
    linear_backward,
    mlp,
    mse,
    mse_backward,
    relu,
    relu_backward,
)
from strategies import matrix_shapes, random_tensor, seeds, small_dim


def away_from_kink(x: torch.Tensor, margin: float = 1e-3) -> torch.Tensor:
    """Move entries with |x| < margin to +-margin, so finite differences of relu are smooth."""
    sign = torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
    return torch.where(x.abs() < margin, sign * margin, x)


def autograd_vjp(fn, inputs, grad_out):
    """Gradients of sum(grad_out * fn(*inputs)) w.r.t. every input, by autograd."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    return torch.autograd.grad((fn(*leaves) * grad_out).sum(), leaves)


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------


@given(shape=matrix_shapes(), seed=seeds(), contiguous=st.booleans())
def test_linear_matches_torch_linear(shape, seed, contiguous):
    n, d_in, d_out = shape
    x = random_tensor((n, d_in), seed, contiguous=contiguous)
    w = random_tensor((d_in, d_out), seed + 1, contiguous=contiguous)
    b = random_tensor((d_out,), seed + 2)
    # F.linear uses the nn.Linear layout: weight (d_out, d_in), so ours is its transpose.
    torch.testing.assert_close(linear(x, w, b), F.linear(x, w.T, b))


@given(shape=matrix_shapes(), seed=seeds(), contiguous=st.booleans())
def test_linear_backward_matches_autograd(shape, seed, contiguous):
    n, d_in, d_out = shape
    x = random_tensor((n, d_in), seed, contiguous=contiguous)
    w = random_tensor((d_in, d_out), seed + 1, contiguous=contiguous)
    b = random_tensor((d_out,), seed + 2)
    g = random_tensor((n, d_out), seed + 3, contiguous=contiguous)
    ours = linear_backward(x, w, g)
    expected = autograd_vjp(linear, (x, w, b), g)
    assert [t.shape for t in ours] == [x.shape, w.shape, b.shape]
    for got, want in zip(ours, expected, strict=True):
        torch.testing.assert_close(got, want)


@given(shape=matrix_shapes(), seed=seeds(), contiguous=st.booleans())
def test_linear_backward_passes_finite_differences(shape, seed, contiguous):
    n, d_in, d_out = shape
    x = random_tensor((n, d_in), seed, contiguous=contiguous)
    w = random_tensor((d_in, d_out), seed + 1, contiguous=contiguous)
    b = random_tensor((d_out,), seed + 2)
    g = random_tensor((n, d_out), seed + 3)
    analytic = linear_backward(x, w, g)
    check_gradients(lambda x, w, b: (linear(x, w, b) * g).sum(), [x, w, b], analytic, tol=1e-7)


@given(d_in=small_dim, d_out=small_dim, seed=seeds())
def test_linear_single_sample_equals_row_of_batch(d_in, d_out, seed):
    x = random_tensor((4, d_in), seed)
    w = random_tensor((d_in, d_out), seed + 1)
    b = random_tensor((d_out,), seed + 2)
    batch = linear(x, w, b)  # (4, d_out)
    for i in range(4):
        torch.testing.assert_close(linear(x[i], w, b), batch[i])  # (d_in,) -> (d_out,)
    g = random_tensor((d_out,), seed + 3)
    ours = linear_backward(x[0], w, g)
    for got, want in zip(ours, autograd_vjp(linear, (x[0], w, b), g), strict=True):
        torch.testing.assert_close(got, want)


def test_linear_rejects_nn_linear_layout_with_a_hint():
    layer = torch.nn.Linear(4, 3)  # weight (3, 4)
    x = torch.randn(5, 4)
    with pytest.raises(ValueError, match="weight.T"):
        linear(x, layer.weight, layer.bias)
    torch.testing.assert_close(linear(x, layer.weight.T, layer.bias), layer(x))


def test_linear_rejects_bad_bias_shape():
    with pytest.raises(ValueError, match="b must have shape"):
        linear(torch.randn(2, 3), torch.randn(3, 4), torch.randn(1, 4))


def test_linear_backward_rejects_wrong_grad_shape():
    with pytest.raises(ValueError, match="grad_out"):
        linear_backward(torch.randn(2, 3), torch.randn(3, 4), torch.randn(4, 2))


# ---------------------------------------------------------------------------------------------
# relu
# ---------------------------------------------------------------------------------------------

shapes = st.lists(small_dim, min_size=1, max_size=3).map(tuple)


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_relu_and_backward_match_torch(shape, seed, contiguous):
    x = random_tensor(shape, seed, contiguous=contiguous)
    g = random_tensor(shape, seed + 1, contiguous=contiguous)
    torch.testing.assert_close(relu(x), torch.relu(x), rtol=0, atol=0)
    (expected,) = autograd_vjp(torch.relu, (x,), g)
    torch.testing.assert_close(relu_backward(x, g), expected, rtol=0, atol=0)


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_relu_backward_passes_finite_differences(shape, seed, contiguous):
    x = away_from_kink(random_tensor(shape, seed, contiguous=contiguous))
    g = random_tensor(shape, seed + 1)
    check_gradients(lambda x: (relu(x) * g).sum(), [x], [relu_backward(x, g)], tol=1e-8)


def test_relu_backward_at_the_kink_is_zero_like_torch():
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    g = torch.ones(3, dtype=torch.float64)
    (expected,) = autograd_vjp(torch.relu, (x,), g)
    torch.testing.assert_close(relu_backward(x, g), expected)
    assert relu_backward(x, g)[1] == 0.0


# ---------------------------------------------------------------------------------------------
# mse
# ---------------------------------------------------------------------------------------------


@given(shape=shapes, seed=seeds(), contiguous=st.booleans())
def test_mse_and_backward_match_torch(shape, seed, contiguous):
    pred = random_tensor(shape, seed, contiguous=contiguous)
    target = random_tensor(shape, seed + 1, contiguous=contiguous)
    loss = mse(pred, target)
    assert loss.dim() == 0
    torch.testing.assert_close(loss, F.mse_loss(pred, target))
    (expected,) = autograd_vjp(lambda p: F.mse_loss(p, target), (pred,), torch.tensor(1.0))
    torch.testing.assert_close(mse_backward(pred, target), expected)
    check_gradients(lambda p: mse(p, target), [pred], [mse_backward(pred, target)], tol=1e-8)


def test_mse_is_the_mean_over_all_entries_not_over_rows():
    pred, target = torch.ones(4, 3), torch.zeros(4, 3)  # 12 squared errors of 1
    assert mse(pred, target).item() == 1.0  # sum 12, divided by N = 12 (not by n = 4)
    torch.testing.assert_close(mse_backward(pred, target), torch.full((4, 3), 2 / 12))


def test_mse_rejects_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match="must match exactly"):
        mse(torch.zeros(5, 1), torch.zeros(5))


# ---------------------------------------------------------------------------------------------
# Layer classes and Model
# ---------------------------------------------------------------------------------------------


@given(shape=matrix_shapes(), seed=seeds(), contiguous=st.booleans())
def test_linear_class_caches_input_and_fills_grads(shape, seed, contiguous):
    n, d_in, d_out = shape
    x = random_tensor((n, d_in), seed, contiguous=contiguous)
    layer = Linear(random_tensor((d_in, d_out), seed + 1), random_tensor((d_out,), seed + 2))
    g = random_tensor((n, d_out), seed + 3)
    torch.testing.assert_close(layer(x), F.linear(x, layer.w.T, layer.b))
    grad_x = layer.backward(g)
    expected = autograd_vjp(linear, (x, layer.w, layer.b), g)
    for got, want in zip((grad_x, layer.grad_w, layer.grad_b), expected, strict=True):
        torch.testing.assert_close(got, want)


def test_layers_refuse_backward_before_forward():
    with pytest.raises(RuntimeError, match="before"):
        Linear.init(3, 2).backward(torch.zeros(1, 2))
    with pytest.raises(RuntimeError, match="before"):
        ReLU().backward(torch.zeros(2))
    with pytest.raises(RuntimeError, match="before"):
        MSE().backward()


def test_linear_init_is_kaiming_and_seeded():
    layer = Linear.init(400, 300, torch.Generator().manual_seed(0))
    assert layer.w.shape == (400, 300) and layer.b.shape == (300,)
    assert torch.equal(layer.b, torch.zeros(300))
    # 120000 normal draws: the sample std is within 1% of sqrt(2 / 400) with overwhelming odds.
    assert abs(layer.w.std().item() / (2 / 400) ** 0.5 - 1) < 0.01
    again = Linear.init(400, 300, torch.Generator().manual_seed(0))
    assert torch.equal(layer.w, again.w)


def torch_loss(params, x, y, activations):
    """The same network written with torch ops, for autograd."""
    h = x
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k + 2 < len(params) and activations:
            h = torch.relu(h)
    return F.mse_loss(h, y)


def deep_model(dims, seed):
    g = torch.Generator().manual_seed(seed)
    layers = []
    for k, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(Linear.init(d_in, d_out, g, dtype=torch.float64))
        layers[-1].b = torch.randn(d_out, generator=g, dtype=torch.float64)  # nonzero bias
        if k < len(dims) - 2:
            layers.append(ReLU())
    return Model(layers)


dims_strategy = st.lists(small_dim, min_size=2, max_size=5)


@given(dims=dims_strategy, n=small_dim, seed=seeds(), contiguous=st.booleans())
def test_model_backward_matches_autograd(dims, n, seed, contiguous):
    model = deep_model(dims, seed)
    x = random_tensor((n, dims[0]), seed + 1, contiguous=contiguous)
    y = random_tensor((n, dims[-1]), seed + 2, contiguous=contiguous)
    loss = model(x, y)
    model.backward()
    leaves = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    expected_loss = torch_loss(leaves, x, y, activations=True)
    torch.testing.assert_close(loss, expected_loss)
    expected = torch.autograd.grad(expected_loss, leaves)
    assert [g.shape for g in model.grads()] == [p.shape for p in model.parameters()]
    for got, want in zip(model.grads(), expected, strict=True):
        torch.testing.assert_close(got, want)


@given(dims=dims_strategy, n=small_dim, seed=seeds())
def test_model_backward_passes_finite_differences(dims, n, seed):
    model = deep_model(dims, seed)
    x = random_tensor((n, dims[0]), seed + 1)
    y = random_tensor((n, dims[-1]), seed + 2)
    model(x, y)
    model.backward()
    # With random weights a pre-activation within eps = 1e-6 of the ReLU kink is very unlikely,
    # and the relative error is taken over whole tensors, so 1e-6 leaves a wide margin.
    errors = check_gradients(
        lambda *ps: torch_loss(list(ps), x, y, activations=True),
        model.parameters(),
        model.grads(),
        names=model.parameter_names(),
    )
    assert list(errors) == model.parameter_names()


def test_mlp_structure_and_shapes():
    model = mlp(10, 7, 3, torch.Generator().manual_seed(0))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "ReLU", "Linear"]
    assert [tuple(p.shape) for p in model.parameters()] == [(10, 7), (7,), (7, 3), (3,)]
    x = torch.randn(5, 10)
    assert model.predict(x).shape == (5, 3)
    w1, b1, w2, b2 = model.parameters()
    torch.testing.assert_close(model.predict(x), torch.relu(x @ w1 + b1) @ w2 + b2)


def test_model_grads_before_backward_raise():
    with pytest.raises(RuntimeError, match="No gradients yet"):
        mlp(3, 4, 2).grads()


def test_model_parameters_are_the_live_tensors():
    model = mlp(3, 4, 2, torch.Generator().manual_seed(0))
    model.parameters()[0].zero_()  # an in-place update, as an optimiser does
    assert torch.count_nonzero(model.linears()[0].w) == 0
