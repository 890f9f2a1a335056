"""Unit tests of the ch07_nn grader and its self-check, in process.

The hidden networks are drawn from the submission's seed; these tests check, over many seeds,
the guarantees the grader's docstring and the notebook's Rules cell state (the rounding bound
of the forward pass far below the tolerance, the ReLU mistakes always recognisable), that the
correct and mistaken corpus cases are graded as their EXPECT says, and that ``check()`` reports
the same parts and catches the same mistakes.
"""

from __future__ import annotations

import pytest
import torch
from inprocess import corpus_misgrades, grade, namespace, self_check, trusted_cases

from coursekit.problemsets import ch07_nn as ch07
from coursekit.problemsets import load
from fromscratch.rules import CH07

SEEDS = range(100)
TRUSTED = trusted_cases("ch07_nn", "correct_", "mistake_", "fairness_")
REFERENCE = """
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
"""


def test_tolerances_are_the_public_rules() -> None:
    assert ch07.TOL == {
        torch.float32: CH07.tolerances["float32"],
        torch.float64: CH07.tolerances["float64"],
    }
    grader = load("ch07_nn")  # the contract's names, from the same rules
    assert grader.FUNCTIONS == CH07.functions and grader.FORBIDDEN == CH07.forbidden


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_forward_bound_is_below_the_tolerance_and_honest_error_far_inside(dtype) -> None:
    """The Rules cell's bound L·(d_max + 1)·u ≤ tol / 4, for the hidden networks' sizes, and the
    measured error of nn.Linear layers (the reference route) on 100 seeds far inside it."""
    u = torch.finfo(dtype).eps / 2
    assert 4 * (8 + 1) * u <= ch07.TOL[dtype] / 4
    for seed in SEEDS:
        for layers, case_dtype in ch07.FORWARD_CASES:
            if case_dtype != dtype:
                continue
            case = ch07.forward_case(seed, layers, dtype)
            assert len(case.sizes) == layers + 1 and max(case.sizes) <= 8
            h = case.x
            for i, (w, b) in enumerate(zip(case.weights, case.biases, strict=True)):
                h = torch.nn.functional.linear(h, w, b)
                h = torch.relu(h) if i < layers - 1 else h
            want, scale = ch07.mlp_forward(case)
            assert float(((h.double() - want).abs() / scale).max()) <= ch07.TOL[dtype] / 4


def test_relu_mistakes_are_always_far_outside_the_tolerance() -> None:
    for seed in SEEDS:
        for layers, dtype in ch07.FORWARD_CASES:
            case = ch07.forward_case(seed, layers, dtype)
            want, scale = ch07.mlp_forward(case)
            last, _ = ch07.mlp_forward(case, relu_last=True)
            assert float(((last - want).abs() / scale).max()) > 100 * ch07.TOL[dtype]
            if layers > 1:
                linear, _ = ch07.mlp_forward(case, relu_between=False)
                assert float(((linear - want).abs() / scale).max()) > 100 * ch07.TOL[dtype]


def test_hidden_inputs_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    a = ch07.forward_case(1, 3, torch.float32).x
    assert torch.equal(a, ch07.forward_case(1, 3, torch.float32).x)
    assert ch07.hidden_values(1) == ch07.hidden_values(1) != ch07.hidden_values(2)
    assert ch07.registration_sizes(1) == ch07.registration_sizes(1)


def test_reference_gets_full_marks_and_messages_hide_the_hidden_values() -> None:
    graded = grade(ch07.CHECKS, REFERENCE)
    assert all(
        score == c.points for c, (score, _) in zip(ch07.CHECKS, graded.values(), strict=True)
    )
    wrong = REFERENCE.replace("for layer in self.layers[:-1]:", "for layer in self.layers[:0]:")
    hidden = ch07.hidden_values(0)  # the in-process student has seed 0
    for _, message in grade(ch07.CHECKS, wrong).values():
        assert not any(value in message for value in hidden), message


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process(path) -> None:
    assert not corpus_misgrades(ch07.CHECKS, path)


def test_partial_credit_for_a_forward_without_relu() -> None:
    """Only the one-layer forward case passes: 1 of 4 cases, a quarter of the points."""
    source = REFERENCE.replace("x = torch.relu(layer(x))", "x = layer(x)")
    score, message = grade(ch07.CHECKS, source)["MLP_forward"]
    assert score == pytest.approx(0.5)
    assert message.startswith("1 of 4 cases passed.") and "no ReLU between" in message


def test_each_count_mistake_is_named() -> None:
    routes = {
        "sum(p.numel() for p in module.parameters())": "frozen",
        "len([p for p in module.parameters() if p.requires_grad])": "parameter tensors",
        "sum(p.numel() for _, p in module.named_parameters(remove_duplicate=False)"
        " if p.requires_grad)": "counted twice",
    }
    for route, words in routes.items():
        source = REFERENCE.replace(
            "sum(p.numel() for p in module.parameters() if p.requires_grad)", route
        )
        graded = grade(ch07.CHECKS, source)
        score, message = graded["count_parameters_values"]
        assert score < 2 and words in message, message
        assert all(s == c.points for c, (s, _) in zip(ch07.CHECKS, graded.values(), strict=True)
                   if c.grade_id != "count_parameters_values")  # fmt: skip


def test_self_check_passes_the_reference_and_names_the_failing_parts() -> None:
    ns = namespace(REFERENCE)
    report = self_check(ns, CH07).values()
    assert [r.part for r in report] == [c.grade_id for c in ch07.CHECKS]
    assert all(r.passed and not r.flags for r in report)
    ns = namespace(REFERENCE.replace("nn.ModuleList(", "list("))
    report = self_check(ns, CH07).values()
    failed = {r.part: r.message for r in report if not r.passed}
    assert set(failed) == {"MLP_registration", "MLP_forward"}
    assert "nn.ModuleList" in failed["MLP_registration"]
    ns = namespace(REFERENCE.replace("new.load_state_dict(module.state_dict())", "pass"))
    report = self_check(ns, CH07).values()
    failed = {r.part for r in report if not r.passed}
    assert failed == {"clone_via_state_dict_outputs", "clone_via_state_dict_buffers"}


def test_self_check_flags_the_reference_code() -> None:
    source = REFERENCE.replace(
        "def count_parameters(module):\n    return",
        "from fromscratch.modules import count_parameters as table\n\n\n"
        "def count_parameters(module):\n    return sum(r[2] for r in table(module)) or",
    )
    ns = namespace(source)
    report = self_check(ns, CH07)
    assert report["count_parameters_values"].flags
    assert not report["MLP_forward"].flags
