"""Tests for fromscratch.matmul: torch.matmul is the oracle for every rung of the ladder, a
counter of torch calls is the oracle for the FLOP formula, and float64 is the oracle for the
float32 rounding bound."""

from collections import Counter

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode

from fromscratch.matmul import (
    gflops,
    matmul_batched,
    matmul_blas,
    matmul_broadcast,
    matmul_broadcast_full,
    matmul_einsum,
    matmul_error_bound,
    matmul_flops,
    matmul_loops,
    matmul_rowdot,
    time_call,
    time_samples,
)
from strategies import matrix_shapes, random_tensor, seeds, small_dim

VARIANTS = [
    matmul_loops,
    matmul_rowdot,
    matmul_broadcast,
    matmul_broadcast_full,
    matmul_einsum,
    matmul_blas,
]

# ---------------------------------------------------------------- every rung equals torch


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
@given(shape=matrix_shapes(), seed=seeds(), contiguous=st.booleans())
def test_variant_matches_torch_matmul_float64(variant, shape, seed, contiguous):
    m, k, n = shape
    a = random_tensor((m, k), seed, contiguous=contiguous)
    b = random_tensor((k, n), seed + 1, contiguous=contiguous)
    c = variant(a, b)
    assert c.shape == (m, n) and c.dtype == torch.float64
    # k <= 7 terms of size O(1): summation order changes the result by ~1e-15, far below
    # assert_close's float64 defaults (rtol 1e-7, atol 1e-7).
    torch.testing.assert_close(c, torch.matmul(a, b))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
@given(shape=matrix_shapes(), seed=seeds())
def test_variant_float32_is_within_the_rounding_bound(variant, shape, seed):
    m, k, n = shape
    a = random_tensor((m, k), seed, dtype=torch.float32, contiguous=False)
    b = random_tensor((k, n), seed + 1, dtype=torch.float32)
    c = variant(a, b)
    assert c.dtype == torch.float32
    exact = a.double() @ b.double()  # float64 oracle; its own error is ~1e-9 of the bound
    bound = matmul_error_bound(a, b)
    assert ((c.double() - exact).abs() <= bound * (1 + 1e-6) + 1e-30).all()


def test_variants_agree_with_torch_on_a_larger_float32_case():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 300, generator=g)  # (m, k), k large enough for float32 rounding to show
    b = torch.randn(300, 5, generator=g).t().contiguous().t()  # (k, n), column-major
    exact = a.double() @ b.double()
    bound = matmul_error_bound(a, b)
    for variant in VARIANTS:
        err = (variant(a, b).double() - exact).abs()
        assert (err <= bound).all(), variant.__name__
        assert err.max() > 0  # float32 does round here: the bound is being exercised


def test_loops_keep_the_input_dtype_unlike_the_seed_notebook():
    a = torch.tensor([[1.0 + 1e-12]], dtype=torch.float64)  # not representable in float32
    b = torch.tensor([[1.0]], dtype=torch.float64)
    assert matmul_loops(a, b).item() == 1.0 + 1e-12


@given(batch=small_dim, shape=matrix_shapes(), seed=seeds(), contiguous=st.booleans())
def test_batched_matches_torch_matmul_on_3d(batch, shape, seed, contiguous):
    m, k, n = shape
    a = random_tensor((batch, m, k), seed, contiguous=contiguous)
    b = random_tensor((batch, k, n), seed + 1, contiguous=contiguous)
    c = matmul_batched(a, b)
    assert c.shape == (batch, m, n)
    torch.testing.assert_close(c, torch.matmul(a, b))
    torch.testing.assert_close(c[-1], a[-1] @ b[-1])  # each slice is an independent product


# ---------------------------------------------------------------- errors for people


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
def test_inner_dimension_mismatch_raises(variant):
    with pytest.raises(ValueError, match=r"inner dimensions.*\(2, 3\).*\(4, 5\)"):
        variant(torch.ones(2, 3), torch.ones(4, 5))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((2, 3), (3,)), ((1, 2, 3), (3, 2))])
def test_non_2d_input_raises(variant, shapes):
    a_shape, b_shape = shapes
    with pytest.raises(ValueError, match="2-D"):
        variant(torch.ones(a_shape), torch.ones(b_shape))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
def test_dtype_mismatch_and_non_tensor_raise(variant):
    with pytest.raises(ValueError, match="same dtype"):
        variant(torch.ones(2, 3), torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="torch tensors"):
        variant([[1.0, 2.0]], torch.ones(2, 1))


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "message"),
    [
        ((2, 3, 4), (3, 4, 5), "same batch size"),
        ((2, 3, 4), (2, 5, 6), "inner dimensions"),
        ((3, 4), (4, 5), "3-D"),
        ((2, 3, 4), (4, 5), "3-D"),
    ],
)
def test_batched_shape_errors(a_shape, b_shape, message):
    with pytest.raises(ValueError, match=message):
        matmul_batched(torch.ones(a_shape), torch.ones(b_shape))


# ---------------------------------------------------------------- the FLOP count


class CountTorchCalls(TorchFunctionMode):
    """Counts every torch function called inside the ``with`` block, by name."""

    def __init__(self):
        super().__init__()
        self.calls = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls[getattr(func, "__name__", str(func))] += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 4), (3, 1, 2), (4, 5, 1)])
def test_flops_formula_counts_the_loop_versions_multiplies_and_adds(shape):
    m, k, n = shape
    a = torch.randn(m, k, dtype=torch.float64)
    b = torch.randn(k, n, dtype=torch.float64)
    with CountTorchCalls() as counter:
        matmul_loops(a, b)
    multiplies, adds = counter.calls["mul"], counter.calls["add_"]
    assert multiplies == adds == m * k * n  # one multiply-add per (i, j, p)
    assert matmul_flops(m, k, n) == multiplies + adds


@given(shape=matrix_shapes(), batch=small_dim)
def test_flops_equals_an_independent_count_per_output_entry(shape, batch):
    m, k, n = shape
    # per entry: k multiplies, k - 1 adds to combine them, 1 add into the zeroed output
    per_entry = k + (k - 1) + 1
    assert matmul_flops(m, k, n) == m * n * per_entry
    assert matmul_flops(m, k, n, batch=batch) == batch * m * n * per_entry


@pytest.mark.parametrize("bad", [(-1, 2, 3), (2, 2.0, 3), (True, 2, 3)])
def test_flops_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        matmul_flops(*bad)


# ---------------------------------------------------------------- timing helpers


def test_time_samples_runs_warmup_then_repeats_and_measures_sleep():
    import time

    calls = []

    def fn(x):
        calls.append(x)
        time.sleep(0.002)

    samples = time_samples(fn, 7, repeats=3, warmup=2)
    assert calls == [7] * 5  # 2 untimed + 3 timed calls, with the argument passed through
    assert len(samples) == 3 and all(s >= 0.002 for s in samples)  # sleep is a lower bound
    assert 0.002 <= time_call(fn, 7, repeats=3, warmup=0) < 1.0


def test_time_call_is_the_median():
    durations = iter([0.0, 0.2, 0.001, 0.05])  # first is the warm-up call

    def fn():
        import time

        time.sleep(next(durations))

    assert 0.05 <= time_call(fn, repeats=3, warmup=1) < 0.2  # median of 0.2, 0.001, 0.05


def test_timing_argument_errors():
    with pytest.raises(ValueError, match="repeats >= 1"):
        time_samples(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="positive duration"):
        gflops(2, 2, 2, 0.0)


def test_gflops_is_flops_per_second_over_1e9():
    assert gflops(1000, 1000, 1000, 2.0) == pytest.approx(1.0)  # 2e9 flops in 2 s
    assert gflops(10, 10, 10, 1e-6, batch=3) == pytest.approx(3 * 2000 / 1e-6 / 1e9)
