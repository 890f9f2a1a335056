"""The small parts of `course grade`, in process: journal, hashes, prechecks, reasons, report,
and the gradebook snapshot through SQLAlchemy (the path a PostgreSQL gradebook takes)."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

from coursekit import report
from coursekit.batch import democourse, gradebook, plan, precheck, reasons

MASTER = [
    {"name": "squares", "cell_type": "code", "kind": "solution", "source": "def squares(n): ..."},
    {"name": "test_squares", "cell_type": "code", "kind": "grade", "source": "assert squares(2)"},
    {"name": "intro", "cell_type": "markdown", "kind": "locked", "source": "# Intro"},
]


def notebook(*cells: tuple[str | None, str, str]) -> dict:
    """Cells as (grade_id or None, cell_type, source)."""
    out = []
    for grade_id, cell_type, source in cells:
        meta = {"nbgrader": {"grade_id": grade_id}} if grade_id else {}
        out.append({"cell_type": cell_type, "metadata": meta, "source": source})
    return {"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def kinds(findings: list[precheck.Finding]) -> list[str]:
    return [f.kind for f in findings]


def test_journal_keeps_the_last_entry_and_survives_a_torn_line(tmp_path: Path) -> None:
    journal = plan.Journal(tmp_path / "journal.jsonl")
    journal.append({"student_id": "ada", "key": "1", "status": "error"})
    journal.append({"student_id": "bob", "key": "2", "status": "ok"})
    journal.append({"student_id": "ada", "key": "3", "status": "ok"})
    with open(journal.path, "a") as out:
        out.write('{"student_id": "bob", "key": "4", "sta')  # killed mid-write
    entries = journal.load()
    assert {s: e["key"] for s, e in entries.items()} == {"ada": "3", "bob": "2"}


def test_submission_key_follows_content_and_grader(tmp_path: Path) -> None:
    folder = tmp_path / "ada" / "ps0"
    folder.mkdir(parents=True)
    (folder / "ps0.ipynb").write_text("{}")
    key = plan.submission_key(folder, "grader-1")
    assert key == plan.submission_key(folder, "grader-1")
    assert key != plan.submission_key(folder, "grader-2")
    (folder / "ps0.ipynb").write_text("{ }")
    changed = plan.submission_key(folder, "grader-1")
    assert changed != key
    (folder / "notes.txt").write_text("extra")
    assert plan.submission_key(folder, "grader-1") != changed
    assert plan.submission_key(tmp_path / "nobody", "grader-1") != key


def test_is_current_requires_the_result_still_in_the_course() -> None:
    entry = {"key": "k", "final": True, "graded": True, "in_gradebook": True}
    assert plan.is_current(entry, "k", in_gradebook=True, autograded=True)
    assert not plan.is_current(entry, "other", in_gradebook=True, autograded=True)
    assert not plan.is_current(entry, "k", in_gradebook=False, autograded=True)
    assert not plan.is_current(entry, "k", in_gradebook=True, autograded=False)
    assert not plan.is_current({**entry, "final": False}, "k", True, True)
    assert not plan.is_current(None, "k", True, True)


def test_precheck_names_each_structural_problem(tmp_path: Path) -> None:
    good = notebook(
        (None, "markdown", "# Intro"),
        ("squares", "code", "def squares(n): return []"),
        ("test_squares", "code", "assert squares(2)"),
    )
    master = MASTER[:2]
    assert precheck.check_cells(good, master, None) == []
    deleted = notebook(("squares", "code", "x"))
    assert kinds(precheck.check_cells(deleted, master, None)) == ["deleted_cells"]
    stripped = notebook(("squares", "code", "x"), (None, "code", "assert squares(2)"))
    assert kinds(precheck.check_cells(stripped, master, None)) == ["deleted_metadata"]
    doubled = notebook(("squares", "code", "a"), ("squares", "code", "b"))
    doubled["cells"].append(good["cells"][2])
    assert kinds(precheck.check_cells(doubled, master, None)) == ["duplicated_cells"]
    retyped = copy.deepcopy(good)
    retyped["cells"][1]["cell_type"] = "markdown"
    (finding,) = precheck.check_cells(retyped, master, None)
    assert finding.kind == "changed_cell_type" and "(code -> markdown)" in finding.message

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "ps0 (1).ipynb").write_text(json.dumps(good))
    (finding,) = precheck.precheck(folder, {"ps0": master})
    assert finding.kind == "wrong_file_name" and finding.fatal
    (folder / "ps0 (1).ipynb").unlink()
    (finding,) = precheck.precheck(folder, {"ps0": master})
    assert finding.kind == "missing_notebook" and "empty" in finding.message
    (folder / "ps0.ipynb").write_text(json.dumps(good)[:-20])
    (finding,) = precheck.precheck(folder, {"ps0": master})
    assert finding.kind == "malformed_json" and "line 1" in finding.message


def test_reasons_status_and_one_message_per_kind() -> None:
    assert reasons.summarize([], graded=True) == ("ok", "")
    loop = precheck.Finding("timeout", "cell 3 stopped")
    assert reasons.summarize([loop], graded=True) == ("problem", "cell 3 stopped")
    status, reason = reasons.summarize(
        [precheck.Finding("duplicated_cells", "seen twice"), loop,
         precheck.Finding("duplicated_cells", "rejected", fatal=True)],
        graded=False,
    )  # fmt: skip
    assert status == "error" and reason == "rejected; cell 3 stopped (scored 0)"
    assert reasons.kernel_death([], "all fine") is None
    events = [{"kind": "exit", "code": None, "signal": 11}]
    death = reasons.kernel_death(events, "DeadKernelError: Kernel died")
    assert death.fatal and "crashed (SIGSEGV)" in death.message


def test_report_rows_and_statistics(tmp_path: Path) -> None:
    parts = {"a": 1.0, "b": 2.0}
    rows = [
        {"student": "s1", "scores": {"a": 1, "b": 2}, "status": "ok", "reason": "", "seconds": 1},
        {"student": "s2", "scores": {"a": 1, "b": 0}, "status": "problem", "reason": "x",
         "seconds": 2},
        {"student": "s3", "scores": {}, "status": "missing", "reason": "none", "seconds": None},
    ]  # fmt: skip
    stats = report.part_statistics(rows, parts)
    assert stats == {"a": (1.0, 1.0), "b": (0.5, 0.5)}  # over the two who submitted
    csv_path, html_path = report.write_report(tmp_path, "ps0", rows, parts)
    with open(csv_path, newline="") as f:
        written = list(csv.DictReader(f))
    assert [(r["student"], r["total"], r["max"], r["status"]) for r in written] == [
        ("s1", "3", "3", "ok"),
        ("s2", "1", "3", "problem"),
        ("s3", "0", "3", "missing"),
    ]
    assert all(
        (tmp_path / "figures" / f).exists() for f in ("totals.png", "parts.png", "times.png")
    )
    assert "<td>s2</td><td>problem</td><td>x</td>" in html_path.read_text()


def test_generic_snapshot_equals_the_sqlite_backup(graded_class: dict, tmp_path: Path) -> None:
    url = gradebook.sqlite_url(graded_class["root"] / "gradebook.db")
    backup = gradebook.snapshot(url, tmp_path / "backup.db", "demo")
    generic = gradebook.snapshot(url, tmp_path / "generic.db", "demo", generic=True)
    urls = [gradebook.sqlite_url(backup), gradebook.sqlite_url(generic)]
    aid = democourse.ASSIGNMENT
    assert gradebook.master_cells(urls[0], "demo", aid) == gradebook.master_cells(
        urls[1], "demo", aid
    )
    for student in gradebook.submitted_students(url, "demo", aid):
        records = [gradebook.extract_record(u, "demo", aid, student) for u in urls]
        assert records[0] == records[1] == gradebook.extract_record(url, "demo", aid, student)
    assert gradebook.integrity_check(urls[1]) == "ok"
