"""Unit tests of the ch05_backward grader and its self-check, in process.

The hidden tensors are drawn from the submission's seed; these tests check, over many seeds, the
guarantees the grader's docstring and the notebook's Rules cell state (the rounding bound of every
honest route at least ten times below the tolerance, the distinct sizes that make each mistake
recognisable, kinks only where intended), that the correct and mistaken corpus cases are graded
as their EXPECT says, and that ``check()`` reports the same parts.
"""

from __future__ import annotations

import pytest
import torch
from inprocess import corpus_misgrades, grade, namespace, self_check, trusted_cases

from coursekit.problemsets import ch05_backward as ch05
from coursekit.problemsets import load
from fromscratch.check import check
from fromscratch.rules import CH05

SEEDS = range(200)
TRUSTED = trusted_cases("ch05_backward", "correct_", "mistake_")
REFERENCE = """
import torch

def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()

def relu_backward(x, grad_out):
    return grad_out * (x > 0)

def linear_backward(x, w, b, grad_out):
    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)
"""


def test_tolerances_are_the_public_rules() -> None:
    assert ch05.TOL == {
        torch.float32: CH05.tolerances["float32"],
        torch.float64: CH05.tolerances["float64"],
    }
    grader = load("ch05_backward")  # the contract's names, from the same rules
    assert grader.FUNCTIONS == CH05.functions and grader.FORBIDDEN == CH05.forbidden


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rounding_bounds_stay_ten_times_below_the_tolerance(dtype: torch.dtype) -> None:
    """The Rules cell's claim, for every hidden case of 200 seeds: the worst-case bound (the
    draws guarantee it), few draws replaced, and the reference's measured error far inside."""
    tol = ch05.TOL[dtype]
    assert 3 * torch.finfo(dtype).eps / 2 <= tol / 10  # mse: three roundings per entry
    for seed in SEEDS:
        for label, _ in ch05.LINEAR_CASES:
            case = ch05.linear_inputs(seed, label, dtype)
            assert ch05.linear_rounding_bound(case.x, case.w, case.grad_out) <= tol / 10
            got = (case.grad_out @ case.w.T, case.x.T @ case.grad_out, case.grad_out.sum(0))
            want = ch05.ref_linear_backward(case.x, case.w, case.b, case.grad_out)
            assert all(ch05._rel(a, b) <= tol / 10 for a, b in zip(got, want, strict=True))
        for label, _ in ch05.CHAIN_CASES:
            net = ch05.chain_inputs(seed, label, dtype)
            assert ch05.chain_rounding_bound(net) <= tol / 10
    if dtype == torch.float64:
        return
    # a float32 draw is replaced about 1 % of the time: count the replaced first attempts
    first = [
        ch05.linear_rounding_bound(c.x, c.w, c.grad_out) > tol / 10
        for c in (
            ch05.LinearCase(*(t.to(dtype) for t in _first_linear_draw(seed, label)))
            for seed in SEEDS
            for label, _ in ch05.LINEAR_CASES
        )
    ]
    assert sum(first) <= 0.05 * len(first)


def _first_linear_draw(seed: int, label: str) -> tuple[torch.Tensor, ...]:
    """The first attempt of ``linear_inputs`` (before any replacement), in float64."""
    g = ch05._gen(seed, f"{label}/0")
    n, d_in, d_out = ch05._pick(g, (6, 7, 8)), ch05._pick(g, (4, 5)), ch05._pick(g, (2, 3))
    x, w = ch05._randn(g, n, d_in), ch05._randn(g, d_in, d_out) / d_in**0.5
    return x, w, 0.5 * ch05._randn(g, d_out), ch05._randn(g, n, d_out)


def test_hidden_shapes_keep_the_mistakes_recognisable() -> None:
    for seed in SEEDS:
        for label, dtype in ch05.MSE_CASES:
            pred, target = ch05.mse_inputs(seed, label, dtype)
            n, d_out = pred.shape
            factors = [0.5, d_out, n, n * d_out, -1.0]
            assert len(set(factors)) == len(factors) and 1.0 not in factors
            assert pred.dtype == target.dtype == dtype
        for label, dtype in ch05.LINEAR_CASES:
            case = ch05.linear_inputs(seed, label, dtype)
            n, d_in = case.x.shape
            assert len({n, d_in, case.w.shape[1]}) == 3 and case.dtype == dtype
        for label, dtype in ch05.RELU_VALUES:
            x, grad_out = ch05.relu_inputs(seed, label, dtype, zeros=False)
            assert float(x.abs().min()) >= ch05.MARGIN * 0.99 and (x > 0).any() and (x < 0).any()
            assert bool((grad_out != 0).all())
        for label, dtype in ch05.RELU_KINK:
            x, _ = ch05.relu_inputs(seed, label, dtype, zeros=True)
            assert int((x == 0).sum()) >= 3 and (x > 0).any()
        for label, dtype in ch05.CHAIN_CASES:
            net = ch05.chain_inputs(seed, label, dtype)
            z32 = net.X @ net.w1 + net.b1
            z64 = net.X.double() @ net.w1.double() + net.b1.double()
            assert torch.equal(z32 > 0, z64 > 0)  # the same ReLU mask in both precisions


def test_hidden_inputs_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    a = ch05.linear_inputs(1, "linear/0", torch.float64).x
    assert torch.equal(a, ch05.linear_inputs(1, "linear/0", torch.float64).x)
    assert ch05.hidden_values(1) == ch05.hidden_values(1) != ch05.hidden_values(2)


def test_reference_gets_full_marks_and_messages_hide_the_hidden_values() -> None:
    graded = grade(ch05.CHECKS, REFERENCE)
    assert all(
        score == c.points for c, (score, _) in zip(ch05.CHECKS, graded.values(), strict=True)
    )
    wrong = REFERENCE.replace("2 * (pred - target)", "(pred - target)")
    hidden = ch05.hidden_values(0)  # the in-process student has seed 0
    for _, message in grade(ch05.CHECKS, wrong).values():
        assert not any(value in message for value in hidden), message


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process(path) -> None:
    assert not corpus_misgrades(ch05.CHECKS, path)


def test_a_part_with_one_failing_case_gets_half_its_points() -> None:
    """Partial credit per case: a relu_backward that is wrong in float32 only."""
    source = REFERENCE.replace(
        "    return grad_out * (x > 0)",
        "    return grad_out * (x >= 0) if x.dtype == torch.float32 else grad_out * (x > 0)",
    )
    score, message = grade(ch05.CHECKS, source)["relu_backward_kink"]
    assert score == pytest.approx(0.5)
    assert message.startswith("1 of 2 cases passed.") and "x >= 0" in message


def test_shape_errors_name_the_transposes() -> None:
    source = REFERENCE.replace("grad_out @ w.T,", "grad_out @ w,")
    graded = grade(ch05.CHECKS, source)
    for gid in ("linear_backward_grad_x", "linear_backward_grad_w", "linear_backward_grad_b"):
        score, message = graded[gid]
        assert score == 0 and "grad_out @ w.T is (n, d_out) @ (d_out, d_in)" in message


def test_self_check_passes_the_reference_and_names_the_failing_parts() -> None:
    ns = namespace(REFERENCE)
    functions = [ns[f] for f in CH05.functions]
    report = check(*functions, verbose=False)
    assert [r.part for r in report] == [c.grade_id for c in ch05.CHECKS]
    assert all(r.passed and not r.flags for r in report)
    ns = namespace(REFERENCE.replace("(x > 0)", "(x >= 0)"))
    report = self_check(ns, CH05).values()
    failed = {r.part: r.message for r in report if not r.passed}
    assert (
        list(failed) == ["relu_backward_kink"]
        and "x > 0, not x >= 0" in failed["relu_backward_kink"]
    )


def test_self_check_flags_autograd_and_the_chain_that_uses_it() -> None:
    source = REFERENCE.replace(
        "    return 2 * (pred - target) / pred.numel()",
        "    p = pred.detach().clone().requires_grad_(True)\n"
        "    ((p - target) ** 2).mean().backward()\n"
        "    return p.grad",
    )
    ns = namespace(source)
    report = self_check(ns, CH05)
    assert report["mse_backward_values"].flags  # grading scores it 0
    chain = report["linear_backward_two_layer"]
    assert not chain.passed and "automatic differentiation" in chain.message
    assert report["relu_backward_values"].passed and not report["relu_backward_values"].flags
