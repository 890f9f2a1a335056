"""An in-process ``Student`` for fast unit tests of the problem-set checks (ps2, ps3).

It runs trusted code only: the correct and mistake cases of the corpus and hand-written variants,
never the adversarial cases (those patch torch and builtins, and only the real sandbox may run
them). It mimics the sandbox's contract: fresh copies of the arguments (``requires_grad`` kept),
``torch.manual_seed(0)`` before each call, results handed back as plain detached tensors, and
``StudentError`` when the function is missing or raises. Shortcut detection is the sandbox's job
and is not emulated here.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from coursekit.verdicts.checks import Check, GradingFailure, StudentError


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


def grade(checks: list[Check], source: str) -> dict[str, tuple[float, str]]:
    """grade_id -> (score, message) for every check, like the trusted grader computes them."""
    student = InProcessStudent(source)
    out = {}
    for check in checks:
        try:
            check.run(student)
            out[check.grade_id] = (float(check.points), "passed")
        except GradingFailure as exc:
            out[check.grade_id] = (check.points * exc.score_fraction, str(exc))
    return out


def misgraded(checks: list[Check], expect: dict, graded: dict[str, tuple[float, str]]) -> list[str]:
    """Why ``graded`` does not match a corpus EXPECT (empty if it does)."""
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
    return problems
