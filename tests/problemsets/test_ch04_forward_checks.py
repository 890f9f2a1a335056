"""Unit tests of the ch04_forward grader and its self-check, in process.

The hidden cases are drawn from the submission's seed; these tests check over many seeds that
every case is of its stated kind (a square w where x @ w.T runs, shapes where it cannot, both
signs and an exact zero for relu), that the linear tolerance holds for the honest routes with a
margin, that kaiming_init's bands are the ones the Rules cell states, that a correct draw stays
inside them for many seeds while every common mistake lands far outside, that the trusted
corpus cases are graded as their EXPECT says for several seeds, and that check() passes honest
work and names the same mistakes.
"""

from __future__ import annotations

import math

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

from coursekit.problemsets import ch04_forward as ch04
from fromscratch.rules import CH04

SEEDS = range(100)
AID = "ch04_forward"
TRUSTED = trusted_cases(AID, "fairness_", "mistake_")
N = 256 * 512  # entries of every large draw


def test_every_seed_draws_cases_of_their_kind() -> None:
    for seed in SEEDS:
        for grade_id in ("linear_float64", "linear_float32"):
            for case in ch04.cases_for(seed, grade_id):
                n, d_in, d_out = case.sizes()
                x, w, b = case.inputs()
                assert x.shape == (n, d_in) and w.shape == (d_in, d_out) and b.shape == (d_out,)
                assert x.dtype == w.dtype == b.dtype == case.dtype
                assert 2 <= d_in <= 12 and 2 <= d_out <= 12 and n <= 12
                assert (d_in == d_out) == (case.kind == "square")  # x @ w.T runs only there
                assert n != d_in  # x.T @ w never runs
                assert (n == 1) == (case.kind == "one_row")
                assert bool((b.abs() >= 1).all())  # forgetting b moves every entry
        for grade_id in ("relu_values", "relu_keeps_input"):
            for case in ch04.cases_for(seed, grade_id):
                x = case.input()
                assert bool((x < 0).any()) and bool((x > 0).any()) and bool((x == 0).any())
        for case in ch04.cases_for(seed, "kaiming_init_shape_and_seed"):
            a, b = case.seeds()
            assert a != b and case.d_in != case.d_out
        wide, tall = ch04.cases_for(seed, "kaiming_init_distribution")
        assert (wide.d_in, wide.d_out) == (256, 512) and (tall.d_in, tall.d_out) == (512, 256)


def test_linear_tolerance_holds_for_honest_routes_with_margin() -> None:
    for dtype in (torch.float32, torch.float64):
        tol = CH04.tolerances["float32" if dtype == torch.float32 else "float64"]
        worst = 0.0
        for seed in SEEDS:
            for grade_id in ("linear_float64", "linear_float32"):
                for case in ch04.cases_for(seed, grade_id):
                    x, w, b = (v.to(dtype) for v in case.inputs())
                    want, s = ch04.exact_linear(x, w, b), ch04.linear_scale(x, w, b)
                    routes = (
                        x @ w + b,
                        (x[:, :, None] * w[None, :, :]).sum(1) + b,
                        torch.stack([(x[i][:, None] * w).sum(0) + b for i in range(len(x))]),
                    )
                    for got in routes:
                        worst = max(worst, float((got.double() - want).abs().max()) / s)
        assert worst <= tol / 10, (dtype, worst)  # the stated margins are 12 and 700


def test_bands_are_the_ones_the_rules_cell_states() -> None:
    rules = harness.read_source(AID).cells[1].source
    lo, hi = ch04.variance_band(N)
    t_lo, t_hi = ch04.tail_band(N)
    assert f"[{lo:.4f}, {hi:.4f}]" in rules
    assert f"{ch04.mean_bound(N):.4f}" in rules and f"{math.sqrt(2 * math.log(5e9)):.2f}" in rules
    assert f"{(t_hi - t_lo) / 2:.4f}" in rules and f"{ch04._P_TAIL:.4f}" in rules
    assert f"{N:,}".replace(",", r"\,") in rules


def test_a_correct_draw_stays_inside_the_bands_and_mistakes_land_far_outside() -> None:
    lo, hi = ch04.variance_band(N)
    ratios = []
    for seed in range(100):
        for d_in, d_out in ch04.DRAW_SHAPES.values():
            g = torch.Generator().manual_seed(seed)
            w = torch.randn(d_in, d_out, generator=g) * math.sqrt(2 / d_in)
            assert ch04.draw_problem(w, d_in, d_out) is None, seed
            ratios.append(float(w.double().pow(2).mean()) * d_in / 2)
    # 200 draws: the ratio's standard deviation is sqrt(2/N) = 0.0039; the band is ±6.7 of them
    assert lo + 0.01 < min(ratios) and max(ratios) < hi - 0.01, (min(ratios), max(ratios))
    g = torch.Generator().manual_seed(0)
    for d_in, d_out in ch04.DRAW_SHAPES.values():
        z = torch.randn(d_in, d_out, generator=g)
        u = 2 * torch.rand(d_in, d_out, generator=g) - 1
        mistakes = {
            "std 2/d_in": z * (2 / d_in),
            "variance 1/d_in": z / math.sqrt(d_in),
            "fan-out": z * math.sqrt(2 / d_out),
            "uniform, bound sigma": u * math.sqrt(2 / d_in),
            "uniform, right variance": u * math.sqrt(6 / d_in),
            "unscaled": z,
            "not centred": torch.rand(d_in, d_out, generator=g) * math.sqrt(6 / d_in),
        }
        for name, w in mistakes.items():
            assert ch04.draw_problem(w, d_in, d_out) is not None, name


def test_hidden_cases_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    assert ch04.hidden_values(1) == ch04.hidden_values(1) != ch04.hidden_values(2)
    a = ch04.cases_for(1, "linear_float64")[0].inputs()[0]
    assert torch.equal(a, ch04.cases_for(1, "linear_float64")[0].inputs()[0])
    assert ch04.TOL == {torch.float32: 1e-5, torch.float64: 1e-12}


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process_for_several_seeds(path) -> None:
    assert not corpus_misgrades(ch04.CHECKS, path, seeds=(0, 1, 2, 3))


def test_partial_credit_for_a_relu_that_mutates_only_float32_inputs() -> None:
    source = """
import torch, math
def linear(x, w, b):
    return x @ w + b
def relu(x):
    if x.dtype == torch.float32:
        return x.clamp_(min=0)
    return x.clamp(min=0)
def kaiming_init(d_in, d_out, generator):
    return torch.randn(d_in, d_out, generator=generator) * math.sqrt(2 / d_in)
"""
    graded = grade(ch04.CHECKS, source, 3)
    score, message = graded["relu_keeps_input"]
    assert score == pytest.approx(0.5) and message.startswith("1 of 2 cases passed.")
    assert graded["relu_values"][1] == "passed"


def test_messages_never_show_hidden_values() -> None:
    for path in TRUSTED:
        for seed in (0, 1):
            assert not leaks(ch04, corpus_source(path), seed), path.stem


def test_check_passes_honest_work_and_names_the_mistakes() -> None:
    for name in ("fairness_loops_and_normal.py", "fairness_einsum_where_box_muller.py"):
        ns = corpus_namespace(harness.CORPUS / AID / name)
        report = self_check(ns, CH04).values()
        assert all(r.passed and not r.flags for r in report), (name, report)
    expected = {
        "mistake_relu_in_place.py": ("relu_keeps_input", "changed its input"),
        "mistake_linear_no_bias.py": ("linear_float64", "add the bias"),
        "mistake_kaiming_without_generator.py": ("kaiming_init_shape_and_seed", "generator"),
        "mistake_kaiming_uniform_bound.py": ("kaiming_init_distribution", "mean square"),
    }
    for name, (part, words) in expected.items():
        ns = corpus_namespace(harness.CORPUS / AID / name)
        report = self_check(ns, CH04)
        assert not report[part].passed and words in report[part].message, (name, report[part])
        assert sum(not r.passed for r in report.values()) == (2 if "linear" in part else 1)


def test_check_flags_the_forbidden_routines() -> None:
    ns = corpus_namespace(harness.CORPUS / AID / "adversarial_nn_init_in_helper.py")
    report = self_check(ns, CH04)
    assert report["kaiming_init_distribution"].flags and report["kaiming_init_shape_and_seed"].flags
    assert not report["linear_float64"].flags and report["relu_values"].passed
    ns = corpus_namespace(harness.CORPUS / AID / "adversarial_layers_alias_and_getattr.py")
    report = self_check(ns, CH04)
    assert report["relu_values"].flags and report["linear_float32"].flags
    assert not report["kaiming_init_distribution"].flags
