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

Taught in: the problem sets (the Exercises part of the book).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "Check",
    "GradingFailure",
    "ShortcutError",
    "Student",
    "StudentError",
    "Verdict",
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
    """

    grade_id: str
    points: float
    score: float
    message: str

    @property
    def passed(self) -> bool:
        return self.score >= self.points


class Student(Protocol):
    """The student's submission as seen by a check (implemented by ``sandbox.SandboxStudent``).

    One ``Student`` (one sandbox process) serves all checks of one notebook, in ``CHECKS`` order.
    Every call runs under a fixed seed (``torch.manual_seed(0)``, NumPy and ``random`` too), with
    fresh copies of the arguments, so results do not depend on check order or on earlier calls.
    """

    def call(
        self,
        function: str,
        *args: Any,
        timeout: float = 10.0,
        allow_shortcuts: bool = False,
        return_args: bool = False,
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
