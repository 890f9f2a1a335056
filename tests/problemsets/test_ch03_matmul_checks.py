"""Unit tests of the ch03_matmul grader and its self-check, in process.

The hidden cases are drawn from the submission's seed; these tests check over many seeds that
every case is of its stated kind (m ≠ n, k ≠ m, n outside the k = 1 kind, sizes ≤ 8, entries'
magnitudes in [1/4, 4]), that the exact bound check accepts every honest summation order and
rejects a product off by one rounding of the bound, that the correct and mistaken corpus cases
are graded as their EXPECT says for several seeds, that messages never show hidden values, and
that check() passes honest work, names the mistakes and flags the forbidden routines.
"""

from __future__ import annotations

from fractions import Fraction

import harness
import pytest
import torch
from inprocess import (
    corpus_misgrades,
    corpus_namespace,
    corpus_source,
    grade,
    leaks,
    self_check,
    trusted_cases,
)

from coursekit.problemsets import ch03_matmul as ch03
from fromscratch.rules import CH03
from fromscratch.selfcheck import ch03_matmul as selfcheck

SEEDS = range(60)
AID = "ch03_matmul"
TRUSTED = trusted_cases(AID, "fairness_", "mistake_")


def test_every_seed_draws_cases_of_their_kind() -> None:
    for seed in SEEDS:
        for grade_id, (_, dtype, kinds) in ch03.PARTS.items():
            cases = ch03.cases_for(seed, grade_id)
            assert [c.kind for c in cases] == list(kinds)
            for case in cases:
                a, b = case.inputs()
                assert a.dtype == b.dtype == dtype == case.dtype
                assert a.shape == (case.m, case.k) and b.shape == (case.k, case.n)
                assert max(case.m, case.k, case.n) <= 8 and case.m != case.n
                magnitudes = torch.cat([a.abs().reshape(-1), b.abs().reshape(-1)])
                assert magnitudes.min() >= 0.25 and magnitudes.max() <= 4.0
                if case.kind == "inner_one":
                    assert case.k == 1 and case.n >= 2
                else:
                    assert case.k not in (case.m, case.n)
                if case.kind == "inner_long":
                    assert case.k > max(case.m, case.n)
                if case.kind == "tall":
                    assert case.m > case.k
                if case.kind == "one_row":
                    assert case.m == 1


def test_cases_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    assert ch03.hidden_values(1) == ch03.hidden_values(1) != ch03.hidden_values(2)
    first = ch03.cases_for(1, "matmul_loops_float64")[0].inputs()[0]
    assert torch.equal(first, ch03.cases_for(1, "matmul_loops_float64")[0].inputs()[0])
    assert ch03.BOUND_FACTOR == Fraction(CH03.tolerances["bound_factor"]) == 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_summation_order_is_inside_the_bound_and_a_bigger_error_is_not(dtype) -> None:
    """Forward, backward, pairwise, float64-then-rounded and BLAS all pass the exact check; the
    exact product moved by twice the bound in one entry fails it."""
    for seed in range(20):
        case = ch03.cases_for(seed, f"matmul_loops_{str(dtype).removeprefix('torch.')}")[0]
        a, b = case.inputs()
        e, mag = ch03.exact_product(a, b)
        terms = a[:, :, None] * b[None, :, :]  # (m, k, n), each product rounded once
        forward = torch.zeros(case.m, case.n, dtype=dtype)
        for p in range(case.k):
            forward = forward + terms[:, p]
        backward = torch.zeros(case.m, case.n, dtype=dtype)
        for p in reversed(range(case.k)):
            backward = backward + terms[:, p]
        routes = (forward, backward, terms.sum(1), (a.double() @ b.double()).to(dtype), a @ b)
        u = ch03.UNIT_ROUNDOFF[dtype]
        for got in routes:
            assert ch03.worst_ratio(got, e, mag, case.k, u) <= 1
            assert selfcheck.worst_ratio(got, a, b) <= 1
        off = [[float(x) for x in row] for row in e]
        off[0][0] = float(e[0][0] + 2 * case.k * u * mag[0][0])
        assert ch03.worst_ratio(torch.tensor(off, dtype=torch.float64), e, mag, case.k, u) > 1


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process_for_several_seeds(path) -> None:
    assert not corpus_misgrades(ch03.CHECKS, path, seeds=(0, 1, 2, 3))


def test_overwriting_earns_the_k_equals_one_case_only() -> None:
    source = corpus_source(harness.CORPUS / AID / "mistake_overwrites_instead_of_accumulating.py")
    score, message = grade(ch03.CHECKS, source, 5)["matmul_loops_float64"]
    assert score == pytest.approx(2 / 3)
    assert message.startswith("1 of 3 cases passed.") and "+=" in message


def test_messages_never_show_hidden_values() -> None:
    for path in TRUSTED:
        for seed in (0, 1):
            assert not leaks(ch03, corpus_source(path), seed), path.stem


def _report(name: str) -> dict:
    ns = corpus_namespace(harness.CORPUS / AID / name)
    return self_check(ns, CH03)


def test_check_passes_honest_work_and_names_the_mistakes() -> None:
    for name in ("fairness_rowdot_dot_and_row_loop.py", "fairness_reduce_generators_recursion.py"):
        report = _report(name)
        assert all(r.passed and not r.flags for r in report.values()), (name, report)
    report = _report("mistake_einsum_ki.py")
    assert not report["matmul_einsum_float64"].passed
    assert "transposed" in report["matmul_einsum_float64"].message
    assert report["matmul_loops_float64"].passed and report["matmul_broadcast_float32"].passed
    report = _report("mistake_default_float32_zeros.py")
    assert not report["matmul_loops_float64"].passed and report["matmul_loops_float32"].passed
    assert "dtype" in report["matmul_loops_float64"].message
    report = _report("mistake_mutates_input.py")
    assert not report["matmul_broadcast_float32"].passed
    assert "changed its inputs" in report["matmul_broadcast_float32"].message
    report = _report("mistake_loop_bound_m.py")
    assert not report["matmul_loops_float64"].passed and report["matmul_einsum_float64"].passed


def test_check_flags_the_forbidden_routines() -> None:
    for name, part in (
        ("adversarial_matmul_alias_in_broadcast.py", "matmul_broadcast_float32"),
        ("adversarial_mv_in_helper.py", "matmul_loops_float64"),
    ):
        report = _report(name)
        assert report[part].flags, (name, report[part])
        others = [r for r in report.values() if r.function != report[part].function]
        assert all(r.passed and not r.flags for r in others), (name, others)
