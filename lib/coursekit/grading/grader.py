"""Grade one notebook against one problem set: the trusted verdict for every graded cell.

Pipeline (one sandbox process per notebook, checks in ``CHECKS`` order)::

    student_cells(nb, locked)  ->  static.analyze  ->  SandboxStudent  ->  Check.run  ->  Verdict

``student_cells`` keeps the code the student controls: every code cell that is not one of the
instructor's locked cells (graded tests, visible tests, read-only demos), nor a copy of one whose
nbgrader metadata was stripped. IPython syntax (``%magic``, ``!cmd``, ``x?``) is rewritten so that
a magic in a cell does not hide the functions defined in it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Sequence
from types import ModuleType

from coursekit.grading.checks import GradingFailure, Verdict
from coursekit.grading.sandbox import SandboxStudent
from coursekit.grading.static import analyze

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


def student_cells(
    cells: Iterable[dict], locked_ids: set[str], locked_sources: set[str]
) -> list[str]:
    """Sources of the code cells the student controls, in notebook order."""
    out = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in locked_ids:
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if source.strip() in locked_sources:
            continue
        out.append(neutralise_ipython(source))
    return out


def grade_cells(cells: Sequence[str], problemset: ModuleType) -> list[Verdict]:
    """Run every check of ``problemset`` against the student's cells; one verdict per check."""
    report = analyze(cells, problemset.FUNCTIONS)
    checks = problemset.CHECKS
    if report.tampering:
        message = (
            f"Your notebook {'; '.join(report.tampering)}. The grader cannot trust results from "
            "code that inspects or patches the interpreter or the grader, so no part is awarded. "
            "Remove it and submit again."
        )
        return [Verdict(c.grade_id, float(c.points), 0.0, message) for c in checks]
    verdicts = []
    with SandboxStudent(cells, problemset, report) as student:
        for check in checks:
            verdicts.append(_run_check(check, student))
    return verdicts


def _run_check(check, student) -> Verdict:
    points = float(check.points)
    try:
        check.run(student)
    except GradingFailure as failure:
        score = round(points * failure.score_fraction, 6)
        return Verdict(check.grade_id, points, score, str(failure))
    except Exception as exc:  # noqa: BLE001  (a grader bug must not crash the whole run)
        log.error("grader error in %s:\n%s", check.grade_id, traceback.format_exc())
        return Verdict(
            check.grade_id,
            points,
            0.0,
            f"The grader hit an internal error ({type(exc).__name__}) on this part; "
            "please tell your instructor.",
        )
    return Verdict(check.grade_id, points, points, f"passed: {check.description}")
