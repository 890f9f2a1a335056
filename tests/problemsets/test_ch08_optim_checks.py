"""Unit tests of the ch08_optim grader (coursekit.problemsets.ch08_optim) and its self-check.

The expected values come from torch.optim; these tests check, over many seeds, that every
mistake the feedback names is far outside the tolerance on the hidden inputs (so a correct
step and a mistaken one can never be confused by rounding), that exact gradient descent meets
the training loop's rule with the handed-out lr and steps, and that the correct and mistaken
corpus cases are graded as their EXPECT says (in process; the corpus also runs through nbgrader).
"""

from __future__ import annotations

import harness
import pytest
import torch
from inprocess import corpus_misgrades, corpus_namespace, self_check, trusted_cases

from coursekit.problemsets import ch08_optim as ch08
from fromscratch.rules import CH08

SEEDS = range(60)
AID = "ch08_optim"
TRUSTED = trusted_cases(AID, "fairness_", "mistake_")


def _rel(got, want, before) -> float:
    return float(torch.linalg.vector_norm(got - want) / torch.linalg.vector_norm(want - before))


def test_tolerances_come_from_the_rules() -> None:
    assert (
        ch08.STEP_TOL == CH08.tolerances["step"]
        and ch08.LOSS_EXCESS == CH08.tolerances["loss_excess"]
    )


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_mistakes_are_far_outside_the_tolerance(nesterov: bool) -> None:
    for seed in SEEDS:
        for case in ch08.sgd_cases(seed, nesterov):
            p, v, g, lr, mu = case.p, case.v, case.grads[0], case.lrs[0], case.momentum
            want, want_v = ch08.torch_sgd(p, g, v, lr, mu, nesterov)
            textbook_v = mu * v + g
            step = g + mu * textbook_v if nesterov else textbook_v
            assert _rel(p - lr * step, want, p) < 1e-13  # a correct step is far inside 1e-9
            damp_v = mu * v + (1 - mu) * g
            assert _rel(damp_v, want_v, v) > 1e-3
            other, _ = ch08.torch_sgd(p, g, v, lr, mu, not nesterov)
            assert _rel(other, want, p) > 1e-3


def test_adam_mistakes_are_far_outside_the_tolerance() -> None:
    for seed in SEEDS:
        for kind in ("first", "later"):
            for case in ch08.adam_cases(seed, kind):
                b1, b2 = case.betas
                args = (case.p, case.grads[0], case.m, case.v, case.t, case.lr, b1, b2, case.eps)
                want = ch08.torch_adam(*args)[0]
                assert _rel(ch08._adam_textbook(*args), want, case.p) < 1e-12
                for variant in (dict(correct=False), dict(eps_inside=True)):
                    if kind == "first" and variant == dict(correct=False) and case.t == 1:
                        continue  # checked at the later steps of the same case
                    wrong = ch08._adam_textbook(*args, **variant)
                    assert _rel(wrong, want, case.p) > 100 * ch08.STEP_TOL, (seed, kind, variant)


def test_gradient_descent_with_the_handed_out_lr_meets_the_rule_by_far() -> None:
    for seed in range(20):
        for i in range(2):
            problem = ch08.regression(seed, i)
            w, b = problem.w0.reshape(-1).clone(), problem.b0.clone()
            x, y, n = problem.x, problem.y, len(problem.x)
            for _ in range(problem.steps):
                r = x @ w.reshape(-1, 1) + b - y  # (n, 1)
                w, b = w - problem.lr * 2 / n * (x.T @ r).reshape(-1), b - problem.lr * 2 * r.mean()
            excess = problem.loss(w, b) / problem.optimum() - 1
            assert excess < 1e-6 * CH08.tolerances["loss_excess"]
            assert problem.steps <= 200


def test_hidden_inputs_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    assert ch08.hidden_values(1) == ch08.hidden_values(1) != ch08.hidden_values(2)


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process(path) -> None:
    assert not corpus_misgrades(ch08.CHECKS, path)


def test_self_check_passes_the_reference_and_names_the_mistakes() -> None:
    ok = corpus_namespace(harness.CORPUS / AID / "fairness_torch_arrangement_and_tensor_losses.py")
    report = self_check(ok, CH08).values()
    assert all(r.passed and not r.flags for r in report) and len(report) == len(ch08.CHECKS)
    bad = corpus_namespace(harness.CORPUS / AID / "mistake_adam_no_bias_correction.py")
    report = self_check(bad, CH08).values()
    failed = {r.part for r in report if not r.passed}
    assert failed == {"adam_step_first_steps", "adam_step_later_step"}


def test_self_check_flags_torch_optim_inside_a_graded_function() -> None:
    ns = corpus_namespace(harness.CORPUS / AID / "shortcut_optim_in_training_loop.py")
    report = self_check(ns, CH08).values()
    (training,) = [r for r in report if r.function == "training_loop"]
    assert training.passed and any("torch.optim.SGD.step" in f for f in training.flags)
    assert all(not r.flags for r in report if r.function != "training_loop")
