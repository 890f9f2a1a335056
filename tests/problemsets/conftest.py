"""Session fixtures for the grader tests: every set's corpus graded once by `course grade`, and
one set's also by plain `nbgrader autograde`, to show the two give the same grades."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import harness
import pytest

_RUNS: dict[str, harness.SetRun] = {}
_PLAIN: dict[str, harness.SetRun] = {}
_SUMMARY: list[str] = []


def _summary(run: harness.SetRun) -> str:
    verdicts = run.verdicts()
    wrong = sum(1 for problems in verdicts.values() if problems)
    how = "one course grade --workers 2" if run.engine == "course" else "one nbgrader autograde"
    return f"{run.assignment_id}: misgraded {wrong} of {len(verdicts)} ({how}, {run.seconds:.0f} s)"


@pytest.fixture(scope="session")
def graded_runs() -> dict[str, harness.SetRun]:
    """Every discovered set graded by `course grade` (two sets at a time, two workers each with
    warm kernels), while plain `nbgrader autograde` grades harness.PLAIN_SET's
    corpus beside them."""
    if not _RUNS:
        keep = os.environ.get("COURSEKIT_KEEP")
        base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="coursekit-grading-"))
        ids = harness.discover_assignments()
        with ThreadPoolExecutor(max_workers=1) as beside:
            plain = None
            aid = harness.PLAIN_SET
            if aid in ids:
                plain = beside.submit(harness.run_set, aid, base / "nbgrader" / aid, "nbgrader")
            # Two sets at a time: a set's own start and finish (release, zygotes, report, export)
            # run mostly on one core; the other set's grading uses the second. Largest first.
            largest_first = sorted(ids, key=lambda aid: -len(harness.load_corpus(aid)))
            _RUNS.update(harness.run_sets(largest_first, base, workers=2, engine="course"))
            if plain is not None:
                _PLAIN[aid] = plain.result()
        _SUMMARY.extend(_summary(run) for run in [*_RUNS.values(), *_PLAIN.values()])
    yield _RUNS
    if not os.environ.get("COURSEKIT_KEEP"):
        for run in [*_RUNS.values(), *_PLAIN.values()]:
            shutil.rmtree(run.course.root.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def plain_nbgrader_runs(graded_runs) -> dict[str, harness.SetRun]:
    """harness.PLAIN_SET's corpus as plain `nbgrader autograde` graded it (empty if not run)."""
    return _PLAIN


def pytest_terminal_summary(terminalreporter) -> None:
    if _SUMMARY:
        terminalreporter.section("grader accuracy")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
