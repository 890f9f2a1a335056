"""Unit tests of the ch02_broadcasting grader and its self-check, in process.

The hidden cases are drawn from the submission's seed; these tests check over many seeds that
every case is of its stated kind (torch agrees on what broadcasts, one clash per incompatible
pair, the traps each kind sets), that the correct and mistaken corpus cases are graded as their
EXPECT says for several seeds, that the distances' tolerance holds for both honest routes with a
margin, and that check() passes the reference and names the same mistakes.
"""

from __future__ import annotations

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

from coursekit.problemsets import ch02_broadcasting as ch02
from fromscratch.check import check
from fromscratch.rules import CH02

SEEDS = range(100)
AID = "ch02_broadcasting"
TRUSTED = trusted_cases(AID, "fairness_", "mistake_")


def test_every_seed_draws_cases_of_their_kind() -> None:
    for seed in SEEDS:
        for case in ch02.cases_for(seed, "broadcast_shape_compatible"):
            torch.broadcast_shapes(case.a, case.b)  # raises if the pair does not broadcast
            assert case.clash is None
        for case in ch02.cases_for(seed, "broadcast_shape_errors"):
            with pytest.raises(RuntimeError):
                torch.broadcast_shapes(case.a, case.b)
            p, q = case.clash
            assert p != q and 1 not in (p, q)
            if case.kind == "clash_left":  # aligning from the left would accept it
                assert ch02._left_aligned(case.a, case.b) is not None
        for grade_id in ("broadcast_by_strides_contiguous", "broadcast_by_strides_views"):
            for case in ch02.cases_for(seed, grade_id):
                t = case.view()
                assert tuple(torch.broadcast_shapes(tuple(t.shape), case.shape)) == case.shape
                assert 0 in ch02._expected_strides(t, case.shape)  # something is stretched
                noncontiguous = grade_id.endswith("views")
                assert t.is_contiguous() != noncontiguous
                if case.kind in ("offset", "stepped"):
                    assert t.storage_offset() > 0
        for grade_id in ("pairwise_sq_distances_float64", "pairwise_sq_distances_float32"):
            first, second = ch02.cases_for(seed, grade_id)
            assert first.n != first.m and second.n == second.m
            assert all(2 <= k <= 9 for c in (first, second) for k in (c.n, c.m, c.d))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_both_honest_distance_routes_stay_inside_the_tolerance_with_margin(dtype) -> None:
    tol = CH02.tolerances["float32" if dtype == torch.float32 else "float64"]
    worst = 0.0
    for seed in SEEDS:
        for grade_id in ("pairwise_sq_distances_float64", "pairwise_sq_distances_float32"):
            for case in ch02.cases_for(seed, grade_id):
                x, y = (v.to(dtype) for v in case.inputs())
                want, s = ch02.exact_distances(x, y), ch02.scale_of(x, y)
                direct = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
                xy = (x[:, None, :] * y[None, :, :]).sum(-1)
                expansion = (x * x).sum(-1)[:, None] - 2 * xy + (y * y).sum(-1)[None, :]
                for got in (direct, expansion):
                    worst = max(worst, float((got.double() - want).abs().max()) / s)
    assert worst <= tol / 4, worst  # the stated margin is 8 (float32) and 450 (float64)


def test_hidden_cases_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    assert ch02.hidden_values(1) == ch02.hidden_values(1) != ch02.hidden_values(2)
    a = ch02.cases_for(1, "pairwise_sq_distances_float64")[0].inputs()[0]
    assert torch.equal(a, ch02.cases_for(1, "pairwise_sq_distances_float64")[0].inputs()[0])
    assert ch02.TOL == {torch.float32: 1e-5, torch.float64: 1e-12}


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process_for_several_seeds(path) -> None:
    assert not corpus_misgrades(ch02.CHECKS, path, seeds=(0, 1, 2, 3, 4, 5))


def test_storage_offset_mistake_earns_one_third_of_the_views_part() -> None:
    """Partial credit per case: offset 0 is right only for the transposed case (offset 0)."""
    source = corpus_source(harness.CORPUS / AID / "mistake_zero_offset.py")
    score, message = grade(ch02.CHECKS, source, 7)["broadcast_by_strides_views"]
    assert score == pytest.approx(2 / 3)
    assert message.startswith("1 of 3 cases passed.") and "storage offset" in message


def test_messages_never_show_hidden_values() -> None:
    for path in TRUSTED:
        for seed in (0, 1):
            assert not leaks(ch02, corpus_source(path), seed), path.stem


def test_check_passes_honest_work_and_names_the_mistakes(capsys) -> None:
    ns = corpus_namespace(harness.CORPUS / AID / "fairness_helpers_and_loops.py")
    report = check(ns["broadcast_shape"], ns["broadcast_by_strides"], ns["pairwise_sq_distances"])
    assert all(r.passed and not r.flags for r in report), report
    ns = corpus_namespace(harness.CORPUS / AID / "mistake_contiguous_strides.py")
    report = self_check(ns, CH02)
    assert not report["broadcast_by_strides_views"].passed
    assert report["broadcast_by_strides_contiguous"].passed
    ns = corpus_namespace(harness.CORPUS / AID / "mistake_no_unsqueeze.py")
    report = self_check(ns, CH02)
    assert not report["pairwise_sq_distances_float64"].passed
    assert "x[:, None, :]" in report["pairwise_sq_distances_float64"].message


def test_check_flags_the_forbidden_routines() -> None:
    for name, part in (
        ("adversarial_cdist_alias.py", "pairwise_sq_distances_float32"),
        ("adversarial_expand_by_getattr.py", "broadcast_by_strides_views"),
        # an alias of torch.broadcast_shapes bound in an earlier cell: check() names it from
        # the function's globals (its per-call traps come too late to wrap it)
        ("adversarial_broadcast_shapes_in_helper.py", "broadcast_shape_compatible"),
    ):
        ns = corpus_namespace(harness.CORPUS / AID / name)
        report = self_check(ns, CH02)
        assert report[part].flags, (name, report[part])
        others = [r for r in report.values() if r.function != report[part].function]
        assert all(r.passed and not r.flags for r in others), (name, others)
