"""Grade every corpus submission with `course grade` (nbgrader's own Autograde converter in each
worker) and compare with its EXPECT; one set is also graded by plain `nbgrader autograde`, and
both must give every case the same grades."""

from __future__ import annotations

import harness
import pytest

ASSIGNMENTS = harness.discover_assignments()
CASES = [(aid, case.name) for aid in ASSIGNMENTS for case in harness.load_corpus(aid)]


@pytest.mark.parametrize(("assignment_id", "case_name"), CASES, ids=[f"{a}/{c}" for a, c in CASES])
def test_case_is_graded_as_expected(graded_runs, assignment_id: str, case_name: str) -> None:
    run = graded_runs[assignment_id]
    problems = run.verdicts()[case_name]
    assert not problems, f"{assignment_id}/{case_name} misgraded:\n" + "\n".join(problems)


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_misgraded_0_of_n(graded_runs, assignment_id: str) -> None:
    run = graded_runs[assignment_id]
    verdicts = run.verdicts()
    wrong = {name: problems for name, problems in verdicts.items() if problems}
    print(f"{assignment_id}: misgraded {len(wrong)} of {len(verdicts)}")
    assert not wrong, harness.dump(run)


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_corpus_has_enough_cases(assignment_id: str) -> None:
    names = [c.name for c in harness.load_corpus(assignment_id)]
    correct = [n for n in names if n.startswith("correct_")]
    mistakes = [n for n in names if n.startswith("mistake_")]
    adversarial = [n for n in names if n.startswith("adversarial_")]
    fairness = [n for n in names if n.startswith("fairness_")]
    escapes = [n for n in names if n.startswith("escape_")]
    if assignment_id.startswith("ch"):  # a chapter set: smaller functions, a leaner corpus
        shortcuts = [n for n in names if n.startswith(("shortcut_", "adversarial_", "escape_"))]
        assert len(correct + fairness) >= 4, "need at least 4 honest submissions by other routes"
        assert len(mistakes) >= 5, "need at least 5 common mistakes"
        assert len(shortcuts) >= 3, "need at least 3 shortcuts, tampering or escape attempts"
        return
    assert len(correct) >= 5, "need at least 5 correct-but-different submissions"
    assert len(mistakes) >= 10, "need at least 10 common mistakes"
    assert adversarial, "need adversarial submissions (shortcuts and tampering)"
    assert len(fairness) >= 8, "need at least 8 honest-but-unusual submissions (fairness_*)"
    assert len(escapes) >= 6, "need at least 6 routes around the traps (escape_*)"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_autograde_processed_every_submission(graded_runs, assignment_id: str) -> None:
    run = graded_runs[assignment_id]
    missing = [name for name, res in run.results.items() if not res.autograded]
    assert not missing, f"nbgrader failed on {missing}:\n{run.autograde_log[-5000:]}"


def test_course_grade_gives_what_plain_nbgrader_autograde_gives(graded_runs, plain_nbgrader_runs):
    """PLAIN_SET's corpus, graded by plain `nbgrader autograde` (a fresh kernel per
    submission, one process): misgraded 0 there too, and every case's cells have the same
    score, maximum and review flag as under `course grade`."""
    aid = harness.PLAIN_SET
    if aid not in ASSIGNMENTS:
        pytest.skip(f"{aid} is not among the sets of this run (COURSEKIT_SETS)")
    plain, ours = plain_nbgrader_runs[aid], graded_runs[aid]
    wrong = {name: problems for name, problems in plain.verdicts().items() if problems}
    assert not wrong, harness.dump(plain)

    def grades(result: harness.StudentResult) -> dict:
        cells = {g: (c.score, c.max_score, c.review) for g, c in result.cells.items()}
        return {"autograded": result.autograded, "cells": cells}

    differ = {
        case.name: (grades(ours.results[case.name]), grades(plain.results[case.name]))
        for case in plain.cases
        if grades(ours.results[case.name]) != grades(plain.results[case.name])
    }
    assert not differ, f"course grade vs nbgrader autograde differ on {aid}: {differ}"
