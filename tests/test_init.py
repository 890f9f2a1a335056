"""Tests for fromscratch.init.

Oracles: closed forms (sqrt(2 / n_in), the per-layer variance factor n_in * Var(w) / 2 for ReLU
and n_in * Var(w) without activation), torch's own nn.Linear initialisation, and sample
statistics with bounds far wider than their standard errors.
"""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fromscratch.init import activation_stats, kaiming_normal, kaiming_std


@pytest.fixture(autouse=True)
def _one_thread():
    """The 50-layer stacks are many small matmuls; on a busy machine two threads waiting for
    each other make them ~20x slower, so these tests run single-threaded."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@given(n_in=st.integers(min_value=1, max_value=10_000))
def test_kaiming_std_closed_form(n_in):
    assert math.isclose(kaiming_std(n_in), math.sqrt(2 / n_in), rel_tol=1e-12)
    assert math.isclose(kaiming_std(n_in, gain=1.0), 1 / math.sqrt(n_in), rel_tol=1e-12)


def test_kaiming_std_rejects_empty_fan_in():
    with pytest.raises(ValueError, match="fan-in"):
        kaiming_std(0)


def test_kaiming_normal_shape_std_and_seed():
    w = kaiming_normal(500, 400, torch.Generator().manual_seed(1))
    assert w.shape == (500, 400) and w.dtype == torch.float32
    # 200000 draws: the sample std's standard error is about 0.16%, the bound is 1%.
    assert abs(w.std().item() / math.sqrt(2 / 500) - 1) < 0.01
    assert abs(w.mean().item()) < 0.01 * math.sqrt(2 / 500)
    assert torch.equal(w, kaiming_normal(500, 400, torch.Generator().manual_seed(1)))
    assert not torch.equal(w, kaiming_normal(500, 400, torch.Generator().manual_seed(2)))


def test_kaiming_normal_fan_in_is_the_number_of_rows():
    w = kaiming_normal(50, 2000, torch.Generator().manual_seed(0), dtype=torch.float64)
    assert w.dtype == torch.float64
    assert abs(w.std().item() / math.sqrt(2 / 50) - 1) < 0.02  # not sqrt(2 / 2000)


def per_layer_log_slope(stds: list[float]) -> float:
    """Least-squares slope of log(std) against the layer index."""
    y = torch.log(torch.tensor(stds, dtype=torch.float64))
    x = torch.arange(len(stds), dtype=torch.float64)
    x = x - x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


@pytest.mark.parametrize("seed", range(4))
def test_kaiming_keeps_relu_activations_in_a_band(seed):
    width = 256
    stds = activation_stats(
        50, width, kaiming_std(width), generator=torch.Generator().manual_seed(seed)
    )
    assert len(stds) == 50
    # Layer 1 sees a standard-normal input (E[x^2] = 1), so Var(z_1) = width * (2/width) = 2.
    assert abs(stds[0] / math.sqrt(2) - 1) < 0.05
    # Later layers keep that scale in expectation; finite width makes log(std) wander a
    # little, so allow a factor 4 either way (std=1 or 0.01 leave this band within 1 layer).
    assert all(math.sqrt(2) / 4 < s < math.sqrt(2) * 4 for s in stds)
    assert abs(per_layer_log_slope(stds)) < 0.03


@pytest.mark.parametrize(
    ("std", "activation", "factor"),
    [
        (1.0, "relu", 256 / 2),  # explodes: variance x128 per layer
        (0.01, "relu", 256 * 1e-4 / 2),  # vanishes: variance x0.0128 per layer
        (1 / math.sqrt(3 * 256), "relu", 1 / 6),  # nn.Linear's default weight variance
        (0.08, "identity", 256 * 0.08**2),  # linear network: no factor 1/2
    ],
)
def test_growth_rate_matches_theory(std, activation, factor):
    g = torch.Generator().manual_seed(0)
    stds = activation_stats(30, 256, std, generator=g, activation=activation)
    # log std changes by log(sqrt(factor)) per layer (from layer 2 on).
    expected = 0.5 * math.log(factor)
    assert abs(per_layer_log_slope(stds[1:]) - expected) < 0.05 * abs(expected) + 0.02
    # Layer 1: Var(z_1) = width * std^2 for a standard-normal input.
    assert abs(stds[0] / (math.sqrt(256) * std) - 1) < 0.05


def test_identity_network_with_gain_one_preserves_scale():
    g = torch.Generator().manual_seed(3)
    stds = activation_stats(40, 256, kaiming_std(256, gain=1.0), generator=g, activation="identity")
    assert all(0.25 < s < 4 for s in stds)


def test_std_one_overflows_float32_but_not_float64():
    g32, g64 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    s32 = activation_stats(50, 256, 1.0, generator=g32, dtype=torch.float32)
    s64 = activation_stats(50, 256, 1.0, generator=g64)
    assert math.isfinite(s64[-1]) and s64[-1] > 1e40
    assert not math.isfinite(s32[-1])  # float32 tops out near 3.4e38


def test_nn_linear_default_weight_variance_is_one_third_over_fan_in():
    torch.manual_seed(0)
    layer = torch.nn.Linear(256, 4096)  # weight (4096, 256): fan-in 256
    assert abs(layer.weight.var().item() * 3 * 256 - 1) < 0.02


def test_activation_stats_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        activation_stats(3, 4, 1.0, activation="tanh")
    with pytest.raises(ValueError, match="depth"):
        activation_stats(0, 4, 1.0)
