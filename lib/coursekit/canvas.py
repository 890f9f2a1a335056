"""``reports/<id>/canvas.csv``: the totals of a grading run, as Canvas's Gradebook imports them.

The rules followed are those of the Canvas Instructor Guide, "How do I import grades in the
Gradebook?" (import a CSV shaped like the Gradebook's own export), as Canvas's importer
(canvas-lms ``GradebookImporter``) applies them:

1. **Header.** ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
   assignment. The importer requires the first header cell to say "Student", the second "ID"
   and the last student column "Section"; "SIS User ID" followed by "SIS Login ID" are read as
   such.
2. **Assignment column.** ``<name> (<Canvas assignment id>)`` is matched by the id (``course
   grade --canvas-assignment-id``); a bare ``<name>`` is matched by exact title, and failing
   that Canvas creates a new assignment of that name.
3. **Points Possible row.** A row whose first cell contains "Points Possible" holds no student:
   it gives each assignment's points (used when Canvas creates the assignment). We write one,
   second, as Canvas's export does: the assignment's maximum in nbgrader.
4. **Students.** The ID column (the Canvas user id) is matched first, then the SIS ids, then the
   name. We fill ID with the user id from the Canvas download's file names, which ``course
   collect`` records as nbgrader's ``Student.lms_user_id``; SIS ids and Section stay empty (the
   download does not carry them). Student is "Last, First" when the gradebook knows the names,
   else the student id (Canvas's file-name form of the name).
5. **Scores.** Points as plain numbers (a ``.`` decimal point). A blank cell is not "no change":
   when Canvas already holds a score, the import replaces it with the blank. So a student whose
   total we do not vouch for gets **no row**; Canvas leaves the grade of a student absent from
   the file as it is.

Who gets a row: a student with a Canvas user id whose submission was graded (status ``ok``,
``problem`` or ``review``) and none of whose parts still awaits a person in the gradebook
(``needs_manual_grade``: a review flag or an ungraded manual part). Everyone else is left out,
with the reason, listed in ``report.html``: a submission that could not be graded (``error``,
0 in ``grades.csv``) is never sent to Canvas as a 0.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

FILE_NAME = "canvas.csv"
STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it
GRADED = ("ok", "problem", "review")


@dataclass
class CanvasExport:
    """What ``write_gradebook`` wrote: the points of each student with a row, and the students
    left out with the reason."""

    path: Path
    column: str
    written: dict[str, float] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        line = f"wrote {self.path} ({self.column}): {len(self.written)} student(s)"
        if self.left_out:
            line += (
                f", {len(self.left_out)} left out, their Canvas grade unchanged "
                "(report.html says why)"
            )
        return line


def assignment_column(assignment_id: str, canvas_assignment_id: int | None) -> str:
    """The header of the assignment column: ``name (id)``, or the bare name (rule 2)."""
    if canvas_assignment_id is None:
        return assignment_id
    return f"{assignment_id} ({canvas_assignment_id})"


def points(value: float) -> str:
    """A score as Canvas reads it: a plain decimal number, never an exponent."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def display_name(student: str, info: dict[str, str]) -> str:
    """Canvas's "Last, First" when the gradebook has the names, else the student id."""
    last, first = info.get("last_name", ""), info.get("first_name", "")
    return f"{last}, {first}" if last and first else student


def left_out_reason(row: dict, has_id: bool, awaiting: list[str]) -> str | None:
    """Why a report row gets no line in canvas.csv (None: it gets one)."""
    if not has_id:
        return "no Canvas user id (not collected from a Canvas download)"
    if row["status"] == "missing":
        return "nothing submitted"
    if row["status"] not in GRADED:
        return f"could not be graded ({row['status']}): a person decides the grade"
    if awaiting:
        return f"awaiting manual grading of {', '.join(awaiting)}"
    return None


def write_gradebook(
    path: Path,
    assignment_id: str,
    rows: list[dict],
    parts: dict[str, float],
    students: dict[str, dict[str, str]],
    awaiting: dict[str, list[str]],
    canvas_assignment_id: int | None = None,
) -> CanvasExport:
    """Write ``path`` by the rules above.

    Args:
        rows: the report's rows (``student``, ``scores`` by part, ``status``).
        parts: ``{part: max points}``; the total of a row is the sum over these parts.
        students: ``gradebook.lms_students``: the Canvas user id (and names) of each student.
        awaiting: ``gradebook.awaiting_manual_grade``: parts still flagged for a person.
    """
    column = assignment_column(assignment_id, canvas_assignment_id)
    export = CanvasExport(path, column)
    lines = []
    for row in rows:
        sid = row["student"]
        info = students.get(sid)
        why = left_out_reason(row, info is not None, awaiting.get(sid, []))
        if why is not None:
            export.left_out[sid] = why
            continue
        total = sum(row["scores"].get(p, 0.0) for p in parts)
        export.written[sid] = total
        lines.append([display_name(sid, info), info["lms_user_id"], "", "", "", points(total)])
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*STUDENT_COLUMNS, column])
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", points(sum(parts.values()))])
        writer.writerows(lines)
    return export
