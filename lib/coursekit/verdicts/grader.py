"""Grade one notebook against one problem set: the trusted verdict for every graded cell.

Pipeline (one sandbox process per notebook, checks in ``CHECKS`` order)::

    student_cells(nb, locked)  ->  static.analyze  ->  SandboxStudent  ->  Check.run  ->  Verdict

A zero needs proof: a part loses points for a forbidden routine only when the runtime traps saw
it run during the part's calls (or the observation itself was disturbed). What static analysis
sees without such proof is graded on its numbers and goes to a person (``Verdict.review``).

``student_cells`` keeps the code the student controls (answer cells, cells they added) and the
instructor's read-only setup cells (imports, helpers that do not call the graded functions); it
drops graded tests, visible tests, and copies of them whose nbgrader metadata was stripped.
IPython syntax (``%magic``, ``!cmd``, ``x?``) is rewritten so that a magic in a cell does not
hide the functions defined in it.
"""

from __future__ import annotations

import ast
import logging
import traceback
from collections.abc import Container, Iterable, Sequence
from types import ModuleType

from coursekit.verdicts.checks import Check, GradingFailure, ShortcutError, Verdict
from coursekit.verdicts.sandbox import SandboxStudent
from coursekit.verdicts.static import analyze

__all__ = ["grade_cells", "neutralise_ipython", "student_cells"]

log = logging.getLogger(__name__)


def neutralise_ipython(source: str) -> str:
    """Turn IPython-only syntax into plain Python calls to the sandbox's ``get_ipython`` stub."""
    if not any(ch in source for ch in "%!?"):
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001  (leave it: the cell will report its own SyntaxError)
        return source


def _mentions(source: str, names: Iterable[str]) -> bool:
    """True if ``source`` uses any of ``names`` (or cannot be parsed)."""
    wanted = set(names)
    try:
        tree = ast.parse(neutralise_ipython(source))
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in wanted:
            return True
        if isinstance(node, ast.Attribute) and node.attr in wanted:
            return True
    return False


def student_cells(
    cells: Iterable[dict],
    locked_ids: set[str],
    locked_sources: set[str],
    functions: Iterable[str] = (),
    graded_ids: set[str] = frozenset(),
) -> list[str]:
    """Sources of the code cells the sandbox runs, in notebook order.

    - graded test cells (``graded_ids``): never;
    - the instructor's read-only cells (``locked_ids``, or a copy whose metadata was stripped,
      recognised by its source): only setup code, i.e. cells that do not use any of the graded
      ``functions`` (imports, helper definitions); visible tests, which call them, are skipped;
    - everything else (answer cells, cells the student added): always.
    """
    functions = tuple(functions)
    out = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in graded_ids:
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        instructor = grade_id in locked_ids or source.strip() in locked_sources
        if instructor and (not functions or _mentions(source, functions)):
            continue
        out.append(neutralise_ipython(source))
    return out


def grade_cells(
    cells: Sequence[str],
    problemset: ModuleType,
    seed: int = 0,
    limit: float | None = None,
    events: list[dict] | None = None,
    kernel_timeouts: Container[str] = (),
) -> list[Verdict]:
    """Run every check of ``problemset`` against the student's cells; one verdict per check.

    ``seed`` seeds the hidden inputs (``checks.Student.seed``; see ``verdicts.seeds``).
    ``limit`` is the course's time limit per cell (``SandboxStudent``: code that does not finish
    costs it once; ``kernel_timeouts``: sources of the cells the kernel timed out on);
    ``events``, if given, receives the sandbox's waits on student code."""
    report = analyze(cells, problemset.FUNCTIONS)
    checks = problemset.CHECKS
    verdicts = []
    student = SandboxStudent(
        cells, problemset, report, limit=limit, kernel_timeouts=kernel_timeouts
    )
    with student:
        student.seed = seed
        try:
            for check in checks:
                verdicts.append(_run_check(check, student))
        finally:
            if events is not None:
                events += student.events
    return verdicts


def _run_check(check: Check, student: SandboxStudent) -> Verdict:
    """One check's verdict. Points awarded without proof against them carry the review evidence
    about the functions the check called; a zero (a proven shortcut, or wrong numbers) needs no
    review, since the evidence could only have cost points."""
    points = float(check.points)
    student.take_called()
    try:
        check.run(student)
    except ShortcutError as failure:
        student.take_called()
        score = round(points * failure.score_fraction, 6)
        return Verdict(check.grade_id, points, score, str(failure))
    except GradingFailure as failure:
        score = round(points * failure.score_fraction, 6)
        review = student.review(student.take_called()) if score > 0 else ""
        return Verdict(check.grade_id, points, score, str(failure), review)
    except Exception as exc:  # noqa: BLE001  (a grader bug must not crash the whole run)
        log.error("grader error in %s:\n%s", check.grade_id, traceback.format_exc())
        return Verdict(
            check.grade_id,
            points,
            0.0,
            f"The grader hit an internal error ({type(exc).__name__}) on this part; "
            "please tell your instructor.",
        )
    review = student.review(student.take_called())
    return Verdict(check.grade_id, points, points, f"passed: {check.description}", review)
