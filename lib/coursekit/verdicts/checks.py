"""The API a problem-set module uses to describe its graded parts.

A problem-set module (``coursekit.problemsets.<assignment_id>``) lists its graded parts as data::

    CHECKS = [
        Check("power_method_diagonal", 2, "power_method on a diagonal matrix", check_diagonal),
        ...
    ]

``grade_id`` is the nbgrader ``grade_id`` of the graded test cell whose score the check decides.
``run(student)`` returns ``None`` when the part is right, and raises ``GradingFailure`` with a
message in the student's own terms when it is not ("returned 1.0: that is ‖v‖ of a normalised
vector; the eigenvalue is vᵀAv"). The message is what the student reads in the feedback, so it
must not reveal hidden inputs or expected arrays beyond what the student needs to fix the mistake.

``run`` never touches student code directly. It goes through ``student`` (a ``Student``), whose
``call`` runs the student's function in the sandbox process and hands back plain data rebuilt in
the trusted process: ``torch.Tensor`` (plain, detached, on CPU), ``float``, ``int``, ``bool``,
``None``, ``str``, ``numpy.ndarray``, and ``tuple`` / ``list`` / ``dict`` of those. No object the
student built ever reaches the grader, so rigged ``__eq__`` or arithmetic cannot fool a check.

Hidden inputs differ per student and per submission: ``student.seed`` (set by the grader from
the student id and a hash of the code graded, recorded in the gradebook) seeds them, and
``derive_seed(student.seed, "label")`` gives each case its own generator seed. Re-grading the
same submission reproduces the same inputs and score.

A part with several cases (``cases_check``) reports "k of n cases passed" with the first failing
case's message, and earns k/n of its points when partial credit per case is on. A set whose parts
all draw their cases from the seed builds its checks in one call::

    CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, runner)

with ``cases_for(seed, grade_id)`` the hidden cases of a part and ``runner(grade_id)`` the
function ``run(student, case)`` that decides one of them (``seeded_cases`` is the same for one
part).

Taught in: the problem sets (the Exercises part of the book).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "Check",
    "GradingFailure",
    "ShortcutError",
    "Student",
    "StudentError",
    "StudentTimeout",
    "Verdict",
    "cases_check",
    "derive_seed",
    "part_checks",
    "seed_of",
    "seeded_cases",
]


class GradingFailure(Exception):
    """A graded part is wrong. ``str(exc)`` is the message shown to the student.

    Args:
        message: One or two sentences in the student's terms: what was returned, what was
            expected (qualitatively, or a value the student can recompute), and the likely mistake.
        score_fraction: Share of the part's points still awarded, in [0, 1). Default 0.
    """

    def __init__(self, message: str, *, score_fraction: float = 0.0) -> None:
        super().__init__(message)
        if not 0.0 <= score_fraction < 1.0:
            raise ValueError("score_fraction must be in [0, 1); a passing part raises nothing.")
        self.message = message
        self.score_fraction = score_fraction

    def __str__(self) -> str:
        return self.message


class StudentError(GradingFailure):
    """The student's function could not be used: it raised, timed out, is missing, crashed the
    sandbox, or returned something that is not plain data (e.g. an object of an unknown type).

    The message is ready to show: "power_method raised ValueError: ...",
    "power_method did not return within 10 s", "power_method is not defined".
    """


class StudentTimeout(StudentError):
    """The student's code did not finish in time ("power_method did not return within 10 s"),
    or was not run because the submission's time ran out; the message says which, and what to do.
    """


class ShortcutError(GradingFailure):
    """The student's function used a routine the exercise forbids (see ``FORBIDDEN`` in the
    problem-set module), or interpreter tricks that make the grader's observations untrustworthy.
    """


@dataclass(frozen=True)
class Check:
    """One graded part, deciding the score of one nbgrader graded test cell.

    Attributes:
        grade_id: nbgrader ``grade_id`` of the graded test cell (unique within the notebook).
        points: Points of that cell; must equal the cell's ``points`` metadata.
        description: Short, student-facing summary of what is tested, with no hidden values,
            e.g. "power_method on a float32 matrix with a known spectrum".
        run: ``run(student) -> None``; raises ``GradingFailure`` when the part is wrong.
    """

    grade_id: str
    points: float
    description: str
    run: Callable[[Student], None]


@dataclass(frozen=True)
class Verdict:
    """The trusted outcome of one ``Check`` on one submission.

    Attributes:
        grade_id: The graded cell it decides.
        points: Maximum points of the cell.
        score: Points awarded, in [0, points].
        message: "passed: <description>" or the failure message shown to the student.
        review: Evidence for a person, empty when there is none: what static analysis saw that
            the runtime traps did not confirm (e.g. "power_method calls torch.linalg.eigvalsh").
            It never changes ``score``; it flags the cell for manual grading in the gradebook.
    """

    grade_id: str
    points: float
    score: float
    message: str
    review: str = ""

    @property
    def passed(self) -> bool:
        return self.score >= self.points


class Student(Protocol):
    """The student's submission as seen by a check (implemented by ``sandbox.SandboxStudent``).

    One ``Student`` (one sandbox process) serves all checks of one notebook, in ``CHECKS`` order.
    Every call runs under a fixed seed (``torch.manual_seed(0)``, NumPy and ``random`` too), with
    fresh copies of the arguments, so results do not depend on check order or on earlier calls.

    ``seed`` (an int, set by ``grader.grade_cells``) is the seed of this submission's hidden
    inputs; read it with ``seed_of(student)`` (0 for a student object without one).
    """

    seed: int

    def call(
        self,
        function: str,
        *args: Any,
        timeout: float = 10.0,
        allow_shortcuts: bool = False,
        return_args: bool = False,
        driver: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run ``function(*args, **kwargs)`` in the sandbox and return its result as plain data.

        Args:
            function: Name of a function the student defined at the top level of a code cell.
            *args, **kwargs: Arguments, built by the check (trusted); sent as fresh copies.
            timeout: Wall-clock limit in seconds for this call.
            allow_shortcuts: If False (default), raise ``ShortcutError`` when static analysis of
                ``function`` (and the helpers it uses) or the runtime traps during this call saw a
                routine that ``FORBIDDEN`` bans for ``function``.
            return_args: If True, return ``(result, args_after)``: the positional arguments as
                they are after the call (in-place updates visible; tensors keep ``requires_grad``
                and carry their ``.grad``, rebuilt as plain tensors).
            driver: A module-level function ``drive(target, *args, **kwargs)`` of the grader,
                for a graded class: its source is sent and it runs in the sandbox in place of
                ``function(*args)``, with ``target`` the student's object (observed and
                attributed to ``function`` like any call); it must import what it uses and
                return plain values.

        Raises:
            StudentError: "power_method raised ValueError: ...", "power_method did not return
                within 10 s", "power_method is not defined", "power_method returned an object of
                type Foo; expected a tensor or a float", or the sandbox crashed.
            ShortcutError: "power_method calls torch.linalg.eigvalsh, which computes eigenvalues
                directly; ..." (unless ``allow_shortcuts``).
        """
        ...

    def shortcuts(self, function: str) -> list[str]:
        """Human-readable shortcut findings for ``function`` so far: from static analysis of its
        body and helpers, and from the runtime traps in every ``call`` of it made until now.
        Empty if none. Each entry reads like "calls torch.linalg.eigvalsh".
        """
        ...

    def has_function(self, function: str) -> bool:
        """True if executing the student's cells defined a callable named ``function``."""
        ...

    @property
    def cell_errors(self) -> list[str]:
        """One line per student cell that raised while the sandbox executed it, e.g.
        "cell 3 raised NameError: name 'torch' is not defined". Empty if all cells ran."""
        ...


# ----------------------------------------------------------------------------- seeds


def seed_of(student: object) -> int:
    """The submission's seed for hidden inputs (``student.seed``; 0 if the student has none)."""
    seed = getattr(student, "seed", 0)
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else 0


def derive_seed(seed: int, label: str) -> int:
    """A generator seed for one case, from the submission's seed and the case's label.

    Deterministic, in [0, 2³¹), and independent across labels (SHA-256 of both).
    """
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 2**31


# ----------------------------------------------------------------------------- several cases


def cases_check(
    grade_id: str,
    points: float,
    description: str,
    cases: Callable[[Student], Sequence[Callable[[], None]]],
    *,
    partial: bool = True,
) -> Check:
    """A ``Check`` whose part is decided by several cases, each passing or failing on its own.

    ``cases(student)`` returns the cases (callables that raise ``GradingFailure`` when the case
    fails), built from ``seed_of(student)``. All cases run (so "k of n" is exact), except that
    after a time-out the remaining cases are counted as failed without being run. A failing part's
    message is "k of n cases passed. " followed by the first failing case's message; with
    ``partial``, the part earns (k + Σ partial credit of the failing cases) / n of its points.
    A shortcut fails every case of the function, so it scores 0 whatever ``partial`` says.
    """

    def run(student: Student) -> None:
        todo = list(cases(student))
        n = len(todo)
        failures: list[GradingFailure] = []
        for index, case in enumerate(todo):
            try:
                case()
            except GradingFailure as failure:
                failures.append(failure)
                timed_out = isinstance(failure, StudentTimeout)
                if timed_out or (
                    isinstance(failure, StudentError) and "did not return within" in str(failure)
                ):
                    failures += [failure] * (n - index - 1)  # do not wait again for each case
                    break
        if not failures:
            return
        first = failures[0]
        passed = n - len(failures)
        fraction = 0.0
        if partial and not any(isinstance(f, ShortcutError) for f in failures):
            fraction = (passed + sum(f.score_fraction for f in failures)) / n
        prefix = f"{passed} of {n} cases passed. " if n > 1 else ""
        raise type(first)(f"{prefix}{first.message}", score_fraction=min(fraction, 0.999999))

    return Check(grade_id, points, description, run)


def seeded_cases(
    make_cases: Callable[[int], Iterable[Any]], run: Callable[[Student, Any], None]
) -> Callable[[Student], list[Callable[[], None]]]:
    """The ``cases`` argument of ``cases_check`` for a part whose cases are drawn from the seed:
    one case per item of ``make_cases(seed_of(student))``, deciding it by ``run(student, item)``.
    """

    def cases(student: Student) -> list[Callable[[], None]]:
        return [lambda case=case: run(student, case) for case in make_cases(seed_of(student))]

    return cases


def part_checks(
    rules: Any,
    parts: Iterable[str],
    points: Mapping[str, float],
    descriptions: Mapping[str, str],
    cases_for: Callable[[int, str], Iterable[Any]],
    runner: Callable[[str], Callable[[Student, Any], None]] | Mapping[str, Callable[..., None]],
) -> list[Check]:
    """One ``cases_check`` per grade id of ``parts``, in that order (the notebook's).

    Args:
        rules: The set's public rules (``fromscratch.rules.SetRules``); its
            ``partial_credit_per_case`` decides partial credit.
        parts: The grade ids, e.g. a set's ``PARTS`` dict.
        points, descriptions: Grade id -> the part's points, and its student-facing summary.
        cases_for: ``cases_for(seed, grade_id)``, the hidden cases of a part for a submission.
        runner: Grade id -> ``run(student, case)``, which raises ``GradingFailure`` when the case
            fails (a function of the grade id, or a mapping).
    """
    run_of = runner.__getitem__ if isinstance(runner, Mapping) else runner
    return [
        cases_check(
            grade_id,
            points[grade_id],
            descriptions[grade_id],
            seeded_cases(
                lambda seed, grade_id=grade_id: cases_for(seed, grade_id), run_of(grade_id)
            ),
            partial=rules.partial_credit_per_case,
        )
        for grade_id in parts
    ]
