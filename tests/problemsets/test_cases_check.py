"""coursekit.verdicts.checks.cases_check: a part decided by several cases, "k of n cases passed"."""

from __future__ import annotations

import types

import pytest

from coursekit.verdicts.checks import (
    GradingFailure,
    ShortcutError,
    StudentError,
    cases_check,
    derive_seed,
    part_checks,
    seed_of,
)


class _Student:
    seed = 7


def _run(check) -> tuple[float, str]:
    try:
        check.run(_Student())
    except GradingFailure as failure:
        return check.points * failure.score_fraction, str(failure)
    return float(check.points), "passed"


def _case(outcome: str | None, ran: list | None = None):
    def case() -> None:
        if ran is not None:
            ran.append(outcome)
        if outcome == "fail":
            raise GradingFailure("wrong value")
        if outcome == "shortcut":
            raise ShortcutError("calls torch.linalg.eigvalsh")
        if outcome == "timeout":
            raise StudentError("f did not return within 30 s")

    return case


def test_k_of_n_with_partial_credit_and_the_first_failure() -> None:
    cases = [_case(None), _case("fail"), _case(None), _case(None)]
    score, message = _run(cases_check("p", 2, "d", lambda s: cases))
    assert score == pytest.approx(1.5)
    assert message == "3 of 4 cases passed. wrong value"


def test_without_partial_credit_a_failing_case_costs_the_part() -> None:
    cases = [_case(None), _case("fail")]
    score, message = _run(cases_check("p", 2, "d", lambda s: cases, partial=False))
    assert score == 0.0 and message.startswith("1 of 2 cases passed.")
    # part_checks: one check per part, in order, its cases drawn from the student's seed, and
    # partial credit as the set's rules say
    drawn: list = []

    def cases_for(seed: int, grade_id: str) -> list[str | None]:
        drawn.append((seed, grade_id))
        return [None, "fail"] if grade_id == "b" else [None]

    def run(student, case: str | None) -> None:
        _case(case)()

    for partial, runner in ((True, lambda gid: run), (False, {"a": run, "b": run})):
        rules = types.SimpleNamespace(partial_credit_per_case=partial)
        checks = part_checks(rules, {"b": (), "a": ()}, {"a": 1, "b": 2}, {"a": "A", "b": "B"},
                             cases_for, runner)  # fmt: skip
        assert [(c.grade_id, c.points, c.description) for c in checks] == [
            ("b", 2, "B"),
            ("a", 1, "A"),
        ]
        assert [_run(c)[0] for c in checks] == [1.0 if partial else 0.0, 1.0]
    assert drawn == [(7, "b"), (7, "a")] * 2


def test_all_cases_passing_passes_and_a_shortcut_scores_zero() -> None:
    assert _run(cases_check("p", 1, "d", lambda s: [_case(None), _case(None)])) == (1.0, "passed")
    score, message = _run(cases_check("p", 1, "d", lambda s: [_case(None), _case("shortcut")]))
    assert score == 0.0 and "eigvalsh" in message


def test_a_time_out_ends_the_part_without_waiting_again() -> None:
    ran: list = []
    cases = [_case(None, ran), _case("timeout", ran), _case(None, ran), _case(None, ran)]
    score, message = _run(cases_check("p", 4, "d", lambda s: cases))
    assert ran == [None, "timeout"]
    assert score == pytest.approx(1.0) and message.startswith("1 of 4 cases passed.")


def test_seeds() -> None:
    assert seed_of(_Student()) == 7 and seed_of(object()) == 0
    assert derive_seed(7, "a") == derive_seed(7, "a") != derive_seed(7, "b")
    assert derive_seed(7, "a") != derive_seed(8, "a")
    assert 0 <= derive_seed(123, "x") < 2**31
