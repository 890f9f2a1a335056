"""Issue 12: a looping submission costs the course's time limit once.

The verdict sandbox runs next to nbgrader's kernel. It keeps the kernel's limit (nbgrader's
``Execute.timeout``, which ``course grade --timeout`` sets). After the first time-out it does not
wait on the same code again. The rest of the submission then has a small budget
(``sandbox.AFTER_TIMEOUT``). These tests use real sandboxes, real problem sets and, in the last
one, the real ``course grade``. They assert on what the sandbox was asked to wait for (its
events and the log lines they become), never on wall time.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import types
from pathlib import Path

import nbformat
import pytest
from pipeline_helpers import REPO, course_cli, real_course, reference_answers
from traitlets.config import Config

from coursekit.problemsets import load
from coursekit.verdicts.checks import StudentTimeout
from coursekit.verdicts.grader import grade_cells, student_cells
from coursekit.verdicts.nbgrader_glue import _kernel_timeouts, execute_limit
from coursekit.verdicts.sandbox import AFTER_TIMEOUT, SandboxStudent
from coursekit.verdicts.static import StaticReport

LOOP = "\n\nwhile True:  # never finishes\n    pass\n"


def answered_cells(aid: str, answers: dict[str, str]) -> list[str]:
    """What the sandbox runs for a submission of ``aid``: the reference answers, with the
    answer cells in ``answers`` replaced."""
    source = REPO / "solutions" / aid / f"{aid}.ipynb"
    notebook = json.loads(source.read_text())
    reference = reference_answers(source)
    locked, graded = set(), set()
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in reference:
            cell["source"] = answers.get(grade_id, reference[grade_id])
        if meta.get("locked"):
            locked.add(grade_id)
        if meta.get("grade"):
            graded.add(grade_id)
    sources = {"".join(c["source"]).strip() for c in notebook["cells"] if c.get("metadata", {})
               .get("nbgrader", {}).get("grade_id") in locked}  # fmt: skip
    return student_cells(notebook["cells"], locked, sources, load(aid).FUNCTIONS, graded)


def looping_answer_cell() -> tuple[list[str], int, int]:
    """ps1's reference cells with a loop after the answer's definitions: (cells, index of the
    answer cell, index of the loop among its top-level statements)."""
    cells = answered_cells("ps1_power_method", {})
    index = next(i for i, c in enumerate(cells) if "def power_method" in c)
    cells[index] += LOOP
    return cells, index, len(ast.parse(cells[index]).body) - 1


def waits_on(events: list[dict], **where: object) -> list[dict]:
    """The sandbox's waits (``exec`` and ``call`` events) on that statement or function."""
    return [
        e for e in events
        if e["op"] in ("exec", "call") and all(e.get(k) == v for k, v in where.items())
    ]  # fmt: skip


# ----------------------------------------------------------------------------- the limit


def test_the_kernels_limit_reaches_the_verdicts() -> None:
    assert execute_limit(Config({"Execute": {"timeout": 10}})) == 10.0  # --timeout 10
    both = Config({"Execute": {"timeout": 10}, "SafeExecute": {"timeout": 7}})
    assert execute_limit(both) == 7.0  # the subclass's setting wins, as in traitlets
    assert execute_limit(Config()) == 30.0  # nbgrader's default
    assert execute_limit(Config({"Execute": {"timeout": None}})) is None  # configured off
    own = Config({"Execute": {"timeout": 10}, "StartVerdicts": {"own_limits": True}})
    assert execute_limit(own) is None  # the sandbox's own limits (before issue 12)
    with pytest.raises(ValueError, match="limit must be a positive number of seconds"):
        SandboxStudent(["x = 1"], types.SimpleNamespace(FUNCTIONS=()), StaticReport(), limit=0)


def test_the_executed_notebook_shows_where_the_kernel_timed_out() -> None:
    timed_out = nbformat.v4.new_code_cell("%time x = 1\nwhile True:\n    pass")
    timed_out.outputs = [nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="")]
    failed = nbformat.v4.new_code_cell("1 / 0")
    failed.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="")]
    notebook = nbformat.v4.new_notebook(cells=[failed, timed_out])
    (source,) = _kernel_timeouts(notebook)
    assert "while True" in source and "%time" not in source  # as the sandbox receives it


# ----------------------------------------------------------------------------- the sandbox


def test_a_loop_after_the_definitions_is_waited_on_once() -> None:
    """ps1: the answer cell defines power_method, then loops. Every part keeps its points."""
    cells, index, loop = looping_answer_cell()
    events: list[dict] = []
    verdicts = grade_cells(cells, load("ps1_power_method"), seed=3, limit=3, events=events)
    assert [v.score for v in verdicts] == [v.points for v in verdicts], verdicts
    waits = waits_on(events, cell=index, stmt=loop)
    assert [e["outcome"] for e in waits] == ["timeout"], waits  # once
    assert 2 < waits[0]["timeout"] <= 3  # the limit (what is left of it in the cell), not 30 s
    assert waits_on(events, cell=index, stmt=loop - 1)[-1]["outcome"] == "ok"  # the def, kept
    assert all(e["outcome"] == "ok" for e in waits_on(events, function="power_method"))


def test_a_function_that_loops_costs_the_limit_once() -> None:
    """ch04: kaiming_init loops when called. linear and relu keep their points; kaiming_init
    is called once, and its parts say that it did not return within the limit."""
    looping = "def kaiming_init(d_in, d_out, generator):\n    while True:\n        pass\n"
    cells = answered_cells("ch04_forward", {"kaiming_init_answer": looping})
    events: list[dict] = []
    verdicts = {
        v.grade_id: v
        for v in grade_cells(cells, load("ch04_forward"), seed=5, limit=2, events=events)
    }
    for part in ("linear_float64", "linear_float32", "relu_values", "relu_keeps_input"):
        assert verdicts[part].passed, verdicts[part]
    first, second = verdicts["kaiming_init_shape_and_seed"], verdicts["kaiming_init_distribution"]
    assert first.score == second.score == 0
    assert "kaiming_init did not return within 2 s; make its loops finish" in first.message
    assert "this submission's time ran out when kaiming_init did not return within 2 s" in (
        second.message
    )
    assert "make its loops finish" in second.message
    calls = waits_on(events, function="kaiming_init")
    assert [(e["timeout"], e["outcome"]) for e in calls] == [(2, "timeout")]
    skipped = [e for e in events if e["op"] == "skip" and e.get("function") == "kaiming_init"]
    assert skipped  # asked for again: answered without waiting
    assert all(e["timeout"] <= 2 for e in events if "timeout" in e)  # not the sets' 10 s


def test_after_a_time_out_the_rest_has_a_small_budget() -> None:
    cells = [
        "import time",
        "def loops():\n    while True:\n        pass",
        "def slow():\n    time.sleep(30)\n    return 1",
        "def quick():\n    return 2",
    ]
    problemset = types.SimpleNamespace(FUNCTIONS=("loops", "slow", "quick"), FORBIDDEN={})
    with SandboxStudent(cells, problemset, StaticReport(), limit=4, after_timeout=3) as student:
        assert student.call("quick") == 2
        with pytest.raises(StudentTimeout, match="loops did not return within 4 s"):
            student.call("loops")
        assert student.call("quick") == 2  # the restart is not the submission's time
        with pytest.raises(StudentTimeout) as ran_out:
            student.call("slow", timeout=60)
        with pytest.raises(StudentTimeout, match="time ran out"):
            student.call("slow")
        with pytest.raises(StudentTimeout, match="was not called"):
            student.call("loops")
        events = student.events
    message = str(ran_out.value)
    assert "\n" not in message
    assert message == (
        "this call of slow was not graded because this submission's time ran out: loops did "
        "not finish within the 4 s time limit; make that loop finish and submit again"
    )
    assert [e["outcome"] for e in waits_on(events, function="loops")] == ["timeout"]
    (slow,) = waits_on(events, function="slow")
    assert slow["outcome"] == "timeout" and slow["timeout"] < 3  # cut, not its own 60 s


def test_the_kernels_time_out_starts_the_budget() -> None:
    """When the kernel has already timed out on a cell, the sandbox does not wait the limit on
    it again: at most ``AFTER_TIMEOUT``, and the parts keep their points."""
    cells, index, loop_statement = looping_answer_cell()
    problemset = load("ps1_power_method")
    kernel = {cells[index]}
    events: list[dict] = []
    verdicts = grade_cells(cells, problemset, 3, 60, events, kernel_timeouts=kernel)
    assert [v.score for v in verdicts] == [v.points for v in verdicts], verdicts
    assert {"op": "kernel_timeout", "cell": index} in events
    (loop,) = waits_on(events, cell=index, stmt=loop_statement)
    assert loop["outcome"] == "timeout" and loop["timeout"] <= AFTER_TIMEOUT  # not 60 s


def test_a_kernel_that_was_only_slow_starts_no_budget() -> None:
    """The kernel timed out on a cell the sandbox has run to its end: the kernel was slow (a
    loaded machine), not the cell, so nothing is cut short."""
    cells = ["import time\nx = 2", "def f():\n    time.sleep(0.5)\n    return x"]
    kernel: set[str] = set()
    problemset = types.SimpleNamespace(FUNCTIONS=("f",), FORBIDDEN={})
    with SandboxStudent(cells, problemset, StaticReport(), limit=3, kernel_timeouts=kernel) as s:
        assert s.call("f") == 2
        kernel.add(cells[0])  # the kernel reports it while the sandbox grades
        s.close()  # the next call starts the sandbox again: cell 1 runs again
        assert s.call("f", timeout=60) == 2
        events = s.events
    assert not [e for e in events if e["op"] in ("kernel_timeout", "skip")]
    assert [e["timeout"] for e in waits_on(events, function="f")] == [3, 3]  # the limit, uncut


# ----------------------------------------------------------------------------- course grade

ID = "ps1_power_method"


def test_course_grade_waits_on_a_loop_once(tmp_path: Path) -> None:
    """``course grade --timeout 5``: a loop after the definitions loses nothing; a function that
    loops loses its parts, each with a reason that names the limit; the sandbox waited on each
    loop once (the per-student log lists every wait that timed out)."""
    root = real_course(tmp_path / "course")
    released = json.loads((root / "assignments" / ID / f"{ID}.ipynb").read_text())
    answer = reference_answers(REPO / "solutions" / ID / f"{ID}.ipynb")["power_method_answer"]
    looping = "def power_method(A, k):\n    while True:\n        pass\n"
    for student, source in (("loop_in_cell", answer + LOOP), ("loop_in_function", looping)):
        notebook = json.loads(json.dumps(released))
        for cell in notebook["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "power_method_answer":
                cell["source"] = source
        folder = root / "submitted" / student / ID
        folder.mkdir(parents=True)
        (folder / f"{ID}.ipynb").write_text(json.dumps(notebook))

    done = course_cli(root, "grade", ID, "--timeout", "5", "--workers", "2", "--no-progress")
    assert done.returncode == 0, done.stderr
    with open(root / "reports" / ID / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert float(rows["loop_in_cell"]["total"]) == float(rows["loop_in_cell"]["max"]) == 8
    assert float(rows["loop_in_function"]["total"]) == 0

    logs = root / "reports" / ID / "logs"
    cell_log = (logs / "loop_in_cell.log").read_text()
    assert len(re.findall(r"Sandbox: cell \d+ statement \d+ timed out after 5\.0 s", cell_log)) == 1
    assert "(1 timed out, 0 skipped; limit 5 s)" in cell_log
    function_log = (logs / "loop_in_function.log").read_text()
    assert function_log.count("Sandbox: call of power_method timed out") == 1
    assert "Sandbox: call of power_method skipped: power_method was not called" in function_log
    assert "(1 timed out, 4 skipped; limit 5 s)" in function_log

    graded = json.loads((root / "autograded" / "loop_in_function" / ID / f"{ID}.ipynb").read_text())
    reasons = [
        o["evalue"]
        for c in graded["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade")
        for o in c["outputs"]
        if o["output_type"] == "error"
    ]
    assert len(reasons) == 5
    assert "power_method did not return within 5 s; make its loops finish" in reasons[0]
    assert all("time ran out" in r and "make its loops finish" in r for r in reasons[1:])
