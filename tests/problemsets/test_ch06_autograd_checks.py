"""Unit tests of the ch06_autograd grader and its self-check, in process.

The hidden cases are drawn from the submission's seed; these tests check over many seeds that
every case keeps the promises of the Rules cell (tanh arguments within 2.5, values of size at
most 100, inputs of the extreme softplus case beyond the naive form's range, the central
difference's error bound far below its tolerance and the one-sided difference far above it),
that the corpus's correct and mistaken cases are graded as their EXPECT says for several seeds,
that feedback never shows hidden values, and that check() passes honest work, names the
mistakes and flags the forbidden routines.
"""

from __future__ import annotations

import harness
import pytest
import torch
from inprocess import (
    corpus_misgrades,
    corpus_namespace,
    corpus_source,
    leaks,
    self_check,
    trusted_cases,
)

from coursekit.problemsets import ch06_autograd as ch06
from fromscratch.rules import CH06

SEEDS = range(60)
AID = "ch06_autograd"
TRUSTED = trusted_cases(AID, "fairness_", "mistake_")


def test_tolerances_are_the_public_ones() -> None:
    assert ch06.TOL == CH06.tolerances["float64"]
    assert ch06.CD_TOL == CH06.tolerances["central_difference"]
    assert sum(c.points for c in ch06.CHECKS) == 10


def test_value_graphs_keep_the_stated_bounds() -> None:
    for seed in SEEDS:
        for gid in ("Value_arithmetic", "Value_shared_nodes", "Value_tanh_exp"):
            for case in ch06.cases_for(seed, gid):
                program = case.program()
                data, grads = ch06.torch_reference(program)
                assert len(program) - sum(op[0] == "input" for op in program) <= 12
                assert max(abs(v) for v in data + grads) <= 100
                for op in program:
                    if op[0] == "tanh":
                        assert abs(data[op[1]]) <= 2.5
                # the mini engine without mistakes agrees with torch (it names the mistakes)
                assert ch06._same(ch06.simulate(program), grads)
        shared = [c.program() for c in ch06.cases_for(seed, "Value_shared_nodes")]
        for program in shared:  # both bugs change the gradients of every shared graph
            want = ch06.torch_reference(program)[1]
            assert not ch06._same(ch06.simulate(program, accumulate=False), want)
            assert not ch06._same(ch06.simulate(program, order="dfs"), want)


def test_softplus_extreme_cases_break_the_naive_form() -> None:
    for seed in SEEDS:
        x, upstream, _ = ch06.cases_for(seed, "SoftplusFunction_forward")[1].inputs()
        assert (x > 709).any() and (x < -40).any() and (x >= -700).all()
        assert (upstream.abs() >= 0.5).all()
        assert torch.isinf(torch.log(1 + torch.exp(x))).any()


def test_central_difference_bound_and_one_sided_margin() -> None:
    for seed in SEEDS:
        for gid in ("central_difference_vector", "central_difference_matrix"):
            for case in ch06.cases_for(seed, gid):
                x, eps, coeffs = case.inputs()
                assert 1e-4 <= eps <= 3e-4 and float(x.abs().max()) <= 1
                exact = ch06.f_gradient(x, coeffs)
                scale = max(1.0, float(exact.abs().max()))
                flat, central = x.reshape(-1), torch.empty(x.numel(), dtype=torch.float64)
                for k in range(x.numel()):
                    e = torch.zeros_like(flat)
                    e[k] = eps
                    up, down = ch06.f_value(flat + e, coeffs), ch06.f_value(flat - e, coeffs)
                    central[k] = (up - down) / (2 * eps)
                err = float((central.reshape(x.shape) - exact).abs().max())
                assert err <= ch06.CD_TOL * scale / 40  # the stated margin
                one_sided = ch06._forward_difference(x, eps, coeffs)
                assert float((one_sided - exact).abs().max()) >= 5 * ch06.CD_TOL * scale


def test_hidden_cases_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    a = ch06.cases_for(1, "Value_tanh_exp")[0].program()
    assert a == ch06.cases_for(1, "Value_tanh_exp")[0].program()
    assert a != ch06.cases_for(2, "Value_tanh_exp")[0].program()
    xa = ch06.cases_for(1, "SoftplusFunction_forward")[0].inputs()[0]
    xb = ch06.cases_for(2, "SoftplusFunction_forward")[0].inputs()[0]
    assert not torch.equal(xa, xb)


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process_for_several_seeds(path) -> None:
    assert not corpus_misgrades(ch06.CHECKS, path, seeds=(0, 7, 123))


def test_messages_never_show_hidden_values() -> None:
    for path in TRUSTED:
        for seed in (3, 4):
            assert not leaks(ch06, corpus_source(path), seed), path.stem


def test_check_passes_honest_work_and_names_the_mistakes() -> None:
    for name in (
        "fairness_where_sigmoid_clone_and_stack.py",
        "fairness_logaddexp_numpy_and_kahn.py",
    ):
        ns = corpus_namespace(harness.CORPUS / AID / name)
        report = self_check(ns, CH06).values()
        assert all(r.passed and not r.flags for r in report), (name, report)
    for name, part, words in (
        ("mistake_naive_softplus.py", "SoftplusFunction_forward", "overflow"),
        ("mistake_ctx_attribute_instead_of_saved.py", "SoftplusFunction_backward", "save_for"),
        ("mistake_forward_difference.py", "central_difference_vector", "central"),
        ("mistake_grad_overwritten.py", "Value_shared_nodes", "accumulate"),
        ("mistake_no_topological_sort.py", "Value_shared_nodes", "topological"),
    ):
        ns = corpus_namespace(harness.CORPUS / AID / name)
        report = self_check(ns, CH06)
        assert not report[part].passed and words in report[part].message, (name, report[part])


def test_check_flags_the_forbidden_routines() -> None:
    for name, part in (
        ("shortcut_autograd_grad_alias_in_central_difference.py", "central_difference_vector"),
        ("adversarial_value_on_torch_via_getattr.py", "Value_arithmetic"),
    ):
        ns = corpus_namespace(harness.CORPUS / AID / name)
        report = self_check(ns, CH06)
        assert report[part].flags, (name, report[part])
        others = [r for r in report.values() if r.function != report[part].function]
        assert all(r.passed and not r.flags for r in others), (name, others)
