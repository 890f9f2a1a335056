"""What is wrong with a submission before it runs: files and notebook structure.

nbgrader still grades every submission (so that the gradebook holds what serial ``nbgrader
autograde`` would write); these findings only name, in one line each, what nbgrader is about
to do with it:

* a missing notebook or a wrong file name: nbgrader finds nothing to grade (score 0);
* malformed JSON: nbgrader cannot read the notebook (score 0);
* a deleted graded cell: plain nbgrader gives its part no score (0, flagged for manual grading);
  a course pipeline may restore it from the master copy (``worker`` says which happened);
* deleted nbgrader metadata: the cell is no longer known to nbgrader, same effect;
* a duplicated cell: nbgrader 0.9 rejects the notebook (its DeduplicateIds step empties the
  metadata of the earlier copies, which its metadata check then refuses; score 0);
* a changed cell type: nbgrader turns the cell back into its original type.

Each finding is a ``Finding(kind, message, fatal)``; ``fatal`` means nbgrader cannot grade the
submission at all. The master copy of the cells comes from the gradebook
(``gradebook.master_cells``), so this works for any assignment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a submission, in one line (``cells``: the graded cells concerned)."""

    kind: str
    message: str
    fatal: bool = False
    cells: tuple[str, ...] = ()


HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)


def released_source(source: str) -> str:
    """A master cell's source as students got it: hidden tests removed, outer blanks stripped."""
    return HIDDEN_TESTS.sub("", source).strip()


def _short(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_files(folder: Path, expected: list[str]) -> list[Finding]:
    """Missing notebooks and wrong file names in ``submitted/<student>/<id>/``."""
    if not folder.is_dir():
        return [Finding("missing_submission", "no submission for this assignment", fatal=True)]
    present = sorted(p.stem for p in folder.glob("*.ipynb"))
    missing = [name for name in expected if name not in present]
    unknown = [name for name in present if name not in expected]
    findings = []
    if missing and unknown:
        found = _short([f"{n}.ipynb" for n in unknown])
        wanted = _short([f"{n}.ipynb" for n in missing])
        findings.append(
            Finding(
                "wrong_file_name",
                f"wrong file name: found {found}, expected {wanted}; rename it and grade again",
                fatal=len(missing) == len(expected),
            )
        )
    elif missing:
        others = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        extra = f" (the folder holds {_short(others)})" if others else " (the folder is empty)"
        findings.append(
            Finding(
                "missing_notebook",
                f"missing notebook: no {_short([f'{n}.ipynb' for n in missing])}{extra}",
                fatal=len(missing) == len(expected),
            )
        )
    return findings


def load_notebook(path: Path) -> tuple[dict | None, Finding | None]:
    """Parse a notebook's JSON; a Finding instead when it is not a readable notebook."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, Finding("malformed_json", f"malformed notebook {path.name}: not UTF-8", True)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        message = f"malformed notebook {path.name}: not valid JSON ({error.msg} at {where})"
        return None, Finding("malformed_json", message, True)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, Finding(
            "malformed_json", f"malformed notebook {path.name}: no cell list", True
        )
    return data, None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def check_cells(notebook: dict, master: list[dict], name: str) -> list[Finding]:
    """Deleted, duplicated, metadata-stripped and retyped cells, against the master copy."""
    seen: dict[str, list[str]] = {}
    bare_sources = set()
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id:
            seen.setdefault(grade_id, []).append(cell.get("cell_type", "?"))
        elif isinstance(cell, dict):
            bare_sources.add(_source(cell).strip())
    prefix = "" if name is None else f"{name}: "
    findings = []
    duplicated = [gid for gid, types in seen.items() if len(types) > 1]
    if duplicated:
        message = f"duplicated cell {_short(duplicated)}: its grade id appears twice"
        findings.append(Finding("duplicated_cells", prefix + message))
    stripped, deleted = [], []
    for cell in master:
        if cell["name"] in seen:
            continue
        source = released_source(cell["source"])
        (stripped if source and source in bare_sources else deleted).append(cell["name"])
    for kind, names, what in (
        ("deleted_metadata", stripped, "nbgrader metadata deleted from cell"),
        ("deleted_cells", deleted, "deleted cell"),
    ):
        if names:
            graded = tuple(n for n in names if _kind(master, n) in ("grade", "task"))
            findings.append(Finding(kind, f"{prefix}{what} {_short(names)}", cells=graded))
    retyped = []
    for cell in master:
        types = seen.get(cell["name"], [])
        if types and types[-1] != cell["cell_type"]:
            retyped.append(f"'{cell['name']}' ({cell['cell_type']} -> {types[-1]})")
    if retyped:
        shown = ", ".join(retyped[:3]) + (
            f" and {len(retyped) - 3} more" if len(retyped) > 3 else ""
        )
        message = f"changed cell type of {shown}: nbgrader restores the original type"
        findings.append(Finding("changed_cell_type", prefix + message))
    return findings


def _kind(master: list[dict], name: str) -> str:
    return next((c["kind"] for c in master if c["name"] == name), "locked")


def precheck(folder: Path, master: dict[str, list[dict]]) -> list[Finding]:
    """All findings for one submission folder, given the master cells of each notebook."""
    expected = list(master)
    findings = check_files(folder, expected)
    single = len(expected) == 1
    for name in expected:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue
        notebook, problem = load_notebook(path)
        if problem is not None:
            findings.append(problem)
            continue
        findings.extend(check_cells(notebook, master[name], None if single else name))
    return findings
