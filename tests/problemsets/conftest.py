"""Session fixtures for the grader tests: one real `nbgrader autograde` per problem set."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import harness
import pytest

_RUNS: dict[str, harness.SetRun] = {}
_SUMMARY: list[str] = []


@pytest.fixture(scope="session")
def graded_runs() -> dict[str, harness.SetRun]:
    """Every discovered set, autograded once (the sets' autograde calls run concurrently)."""
    if not _RUNS:
        keep = os.environ.get("COURSEKIT_KEEP")
        base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="coursekit-grading-"))
        ids = harness.discover_assignments()
        # all sets at once: each autograde is mostly one process waiting on its kernel/sandbox
        _RUNS.update(harness.run_sets(ids, base, workers=max(1, len(ids))))
        for aid, run in _RUNS.items():
            verdicts = run.verdicts()
            wrong = sum(1 for problems in verdicts.values() if problems)
            _SUMMARY.append(
                f"{aid}: misgraded {wrong} of {len(verdicts)} "
                f"(one nbgrader autograde call, {run.seconds:.0f} s)"
            )
    yield _RUNS
    if not os.environ.get("COURSEKIT_KEEP"):
        for run in _RUNS.values():
            shutil.rmtree(run.course.root.parent, ignore_errors=True)


def pytest_terminal_summary(terminalreporter) -> None:
    if _SUMMARY:
        terminalreporter.section("grader accuracy")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
