"""An in-process ``Student`` for fast unit tests of the problem-set checks, and the helpers every
``test_<set>_checks.py`` shares (the trusted corpus cases, their source, grading them).

It runs trusted code only: the correct, fairness and mistake cases of the corpus and hand-written
variants, never the adversarial cases (those patch torch and builtins, and only the real sandbox
may run them). It mimics the sandbox's contract: fresh copies of the arguments (``requires_grad``
kept), ``torch.manual_seed(0)`` before each call, results handed back as plain detached tensors,
and ``StudentError`` when the function is missing or raises. Shortcut detection is the sandbox's
job and is not emulated here.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import harness
import torch

from coursekit.verdicts.checks import Check, GradingFailure, StudentError
from fromscratch.check import check as fromscratch_check


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    return value


def _plain(value: Any, keep_grad: bool = False) -> Any:
    if isinstance(value, torch.Tensor):
        out = value.detach().clone()
        if keep_grad and value.requires_grad:
            out.requires_grad_(True)
            if value.grad is not None:
                out.grad = value.grad.detach().clone()
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


class InProcessStudent:
    """``checks.Student`` over a namespace built by ``exec`` of trusted source code."""

    def __init__(self, source: str) -> None:
        self.namespace: dict[str, Any] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, "<student>", "exec"), self.namespace)

    def call(
        self,
        function: str,
        *args: Any,
        return_args: bool = False,
        driver: Any = None,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("timeout", None)
        kwargs.pop("allow_shortcuts", None)
        if not callable(self.namespace.get(function)):
            raise StudentError(f"{function} is not defined")
        copies = [_copy(a) for a in args]
        torch.manual_seed(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target = self.namespace[function]
                result = driver(target, *copies, **kwargs) if driver else target(*copies, **kwargs)
        except Exception as exc:  # the student's exception, reported like the sandbox does
            raise StudentError(f"{function} raised {type(exc).__name__}: {exc}") from None
        if return_args:
            return _plain(result), [_plain(a, keep_grad=True) for a in copies]
        return _plain(result)

    def shortcuts(self, function: str) -> list[str]:
        return []

    def has_function(self, function: str) -> bool:
        return callable(self.namespace.get(function))

    @property
    def cell_errors(self) -> list[str]:
        return []


# ----------------------------------------------------------------------------- corpus cases


def trusted_cases(assignment_id: str, *prefixes: str) -> list[Path]:
    """The set's corpus cases whose names start with one of ``prefixes`` (e.g. "correct_",
    "fairness_", "mistake_"), in name order, without those that edit the notebook (``EDITS``:
    only the real pipeline builds them)."""
    return [
        path
        for path in sorted((harness.CORPUS / assignment_id).glob("*.py"))
        if path.name.startswith(prefixes) and "EDITS" not in path.read_text()
    ]


def corpus_source(path: Path) -> str:
    """The student's code of a corpus case, its cells joined (its set is its folder's name)."""
    case = harness.load_case(path, path.parent.name)
    return "\n".join(chunk for _, _, chunk in harness.split_chunks(case.code))


def namespace(source: str, filename: str = "<student>") -> dict[str, Any]:
    """The globals of trusted ``source`` after running it (for ``fromscratch.check``)."""
    names: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), names)  # noqa: S102 (trusted code only)
    return names


def corpus_namespace(path: Path) -> dict[str, Any]:
    """The globals of a trusted corpus case after running its cells."""
    return namespace(corpus_source(path), str(path))


def self_check(names: dict[str, Any], rules: Any) -> dict[str, Any]:
    """part -> ``fromscratch.check``'s result for the set's graded functions (``rules.functions``)
    as defined in ``names``, in the order check() reports them."""
    return {
        r.part: r for r in fromscratch_check(*(names[f] for f in rules.functions), verbose=False)
    }


# ----------------------------------------------------------------------------- grading


def grade(checks: list[Check], source: str, seed: int = 0) -> dict[str, tuple[float, str]]:
    """grade_id -> (score, message) for every check, like the trusted grader computes them, for
    the submission ``source`` with hidden inputs drawn from ``seed``."""
    student = InProcessStudent(source)
    student.seed = seed
    out = {}
    for check in checks:
        try:
            check.run(student)
            out[check.grade_id] = (float(check.points), "passed")
        except GradingFailure as exc:
            out[check.grade_id] = (check.points * exc.score_fraction, str(exc))
    return out


def misgraded(checks: list[Check], expect: dict, graded: dict[str, tuple[float, str]]) -> list[str]:
    """Why ``graded`` does not match a corpus EXPECT (empty if it does): its "lose" parts lose
    points with the message it names, every other part has full marks, and its "score" parts
    have exactly that score."""
    points = {c.grade_id: float(c.points) for c in checks}
    lose = dict(expect.get("lose", {}))
    if "*" in lose:
        default = lose.pop("*")
        lose = {gid: lose.get(gid, default) for gid in points}
    problems = []
    for gid, (score, message) in graded.items():
        if gid in lose:
            if score >= points[gid]:
                problems.append(f"{gid}: expected to lose points, got full marks")
            elif lose[gid] and lose[gid].lower() not in message.lower():
                problems.append(f"{gid}: message lacks {lose[gid]!r}: {message}")
        elif score < points[gid]:
            problems.append(f"{gid}: expected full marks: {message}")
    for gid, exact in expect.get("score", {}).items():
        if not math.isclose(graded[gid][0], exact):
            problems.append(f"{gid}: expected exactly {exact}, got {graded[gid][0]}")
    return problems


def corpus_misgrades(checks: list[Check], path: Path, seeds=(0,)) -> list[tuple[int, list[str]]]:
    """(seed, problems) for every seed under which the corpus case is not graded as its EXPECT
    says (empty if it always is)."""
    expect, source = harness.load_case(path, path.parent.name).expect, corpus_source(path)
    graded = {seed: misgraded(checks, expect, grade(checks, source, seed)) for seed in seeds}
    return [(seed, problems) for seed, problems in graded.items() if problems]


def leaks(problemset: ModuleType, source: str, seed: int) -> list[tuple[str, list[str]]]:
    """(message, hidden values it shows) for every message of the feedback to ``source``, graded
    with ``seed``, that shows one of ``problemset.hidden_values(seed)`` (empty if none does)."""
    hidden = problemset.hidden_values(seed)
    messages = [message for _, message in grade(problemset.CHECKS, source, seed).values()]
    shown = [(message, [v for v in hidden if v in message]) for message in messages]
    return [(message, values) for message, values in shown if values]
