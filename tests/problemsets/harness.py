"""Corpus harness: build submissions, run the REAL nbgrader in a temporary course, read results.

Generic over assignment ids: a problem set takes part as soon as ``corpus/<id>/`` holds cases and
``solutions/<id>/<id>.ipynb`` exists. The corpus format is documented in README.md (same folder).
"""

from __future__ import annotations

import ast
import copy
import csv
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
SOLUTIONS = REPO / "solutions"
ASSIGNMENTS = REPO / "assignments"
RELEASED_CASE = "released_unmodified"
REFERENCE_CASE = "reference_solution"
TWIN_SUFFIX = "__twin"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
SCORE_ROUNDING = 5e-6  # half a unit of the gradebook's sixth decimal, and a margin


# ----------------------------------------------------------------------------- corpus files


@dataclass
class Case:
    """One student-like submission and what the grader must do with it."""

    assignment_id: str
    name: str
    description: str
    expect: dict
    edits: list = field(default_factory=list)
    code: str = ""
    path: Path | None = None
    notebook: nbformat.NotebookNode | None = None  # prebuilt (automatic cases)


def discover_assignments() -> list[str]:
    """Assignment ids that have a corpus folder with cases and a source notebook.

    ``COURSEKIT_SETS=ps1_power_method,ps2_low_rank`` restricts the list (for quicker local runs).
    """
    if not CORPUS.is_dir():
        return []
    only = [a for a in os.environ.get("COURSEKIT_SETS", "").split(",") if a]
    found = []
    for folder in sorted(CORPUS.iterdir()):
        source = SOLUTIONS / folder.name / f"{folder.name}.ipynb"
        if folder.is_dir() and any(folder.glob("*.py")) and source.exists():
            if not only or folder.name in only:
                found.append(folder.name)
    return found


def load_case(path: Path, assignment_id: str) -> Case:
    """Parse one corpus file: docstring, EXPECT, optional EDITS, then the student's code."""
    text = path.read_text(encoding="utf-8")
    body = _header_statements(text, path)
    if not body or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Constant):
        raise ValueError(f"{path}: the case must start with a docstring describing the student.")
    description = str(body[0].value.value).strip()
    header: dict[str, object] = {}
    last = body[0]
    for node in body[1:]:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("EXPECT", "EDITS")
        ):
            header[node.targets[0].id] = ast.literal_eval(node.value)
            last = node
        else:
            break
    if "EXPECT" not in header:
        raise ValueError(f"{path}: EXPECT = {{...}} must follow the docstring.")
    expect = header["EXPECT"]
    _check_expect(expect, path)
    lines = text.splitlines(keepends=True)
    code = "".join(lines[last.end_lineno :]).strip("\n") + "\n"
    return Case(
        assignment_id=assignment_id,
        name=path.stem,
        description=description.splitlines()[0],
        expect=expect,
        edits=list(header.get("EDITS", [])),
        code=code,
        path=path,
    )


def _header_statements(text: str, path: Path) -> list[ast.stmt]:
    """Statements of the file, or of its header only if the code uses IPython syntax."""
    try:
        return ast.parse(text, filename=str(path)).body
    except SyntaxError:
        lines = text.splitlines(keepends=True)
        cut = next(
            (i for i, line in enumerate(lines) if line.startswith(("# %%", "%", "!"))),
            len(lines),
        )
        return ast.parse("".join(lines[:cut]), filename=str(path)).body


def _check_expect(expect: object, path: Path) -> None:
    if not isinstance(expect, dict):
        raise ValueError(f"{path}: EXPECT must be a dict.")
    if ("full" in expect) == ("lose" in expect):
        raise ValueError(f"{path}: EXPECT needs exactly one of 'full' and 'lose'.")
    review = expect.get("review", [])
    if not isinstance(review, list) or not all(isinstance(g, str) for g in review):
        raise ValueError(f"{path}: EXPECT['review'] must be a list of grade_ids (or ['*']).")
    if not isinstance(expect.get("row", ""), str):
        raise ValueError(f"{path}: EXPECT['row'] must be a string (part of the row's reason).")
    unknown = set(expect) - {"full", "lose", "score", "total", "twin", "review", "row"}
    if unknown:
        raise ValueError(f"{path}: unknown EXPECT keys {sorted(unknown)}.")


def load_corpus(assignment_id: str) -> list[Case]:
    """All cases of a set: the files, the two automatic cases, and the twins."""
    source = read_source(assignment_id)
    released = read_released(assignment_id)
    cases = [
        Case(
            assignment_id,
            RELEASED_CASE,
            "the released notebook, unmodified",
            {"lose": {"*": None}, "total": 0.0},
            notebook=copy.deepcopy(released),
        ),
        Case(
            assignment_id,
            REFERENCE_CASE,
            "the reference solution from solutions/",
            {"full": True},
            notebook=reference_submission(source, released),
        ),
    ]
    for path in sorted((CORPUS / assignment_id).glob("*.py")):
        case = load_case(path, assignment_id)
        cases.append(case)
        if case.expect.get("twin"):
            twin = copy.copy(case)
            twin.name = case.name + TWIN_SUFFIX
            cases.append(twin)
    return cases


# ----------------------------------------------------------------------------- notebooks


def read_source(assignment_id: str) -> nbformat.NotebookNode:
    return nbformat.read(SOLUTIONS / assignment_id / f"{assignment_id}.ipynb", as_version=4)


def read_released(assignment_id: str) -> nbformat.NotebookNode:
    return nbformat.read(ASSIGNMENTS / assignment_id / f"{assignment_id}.ipynb", as_version=4)


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_test_cells(nb: nbformat.NotebookNode) -> dict[str, float]:
    """grade_id -> points of the autograded test cells (grade=True, solution=False)."""
    cells = {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            cells[meta["grade_id"]] = float(meta["points"])
    return cells


def solution_cell_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [
        nbgrader_meta(c)["grade_id"]
        for c in nb.cells
        if nbgrader_meta(c).get("solution") and c.cell_type == "code"
    ]


def strip_solution_markers(source: str) -> str:
    """The code between ### BEGIN SOLUTION / ### END SOLUTION, or the whole source."""
    lines = source.splitlines()
    out, inside, seen = [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("### BEGIN SOLUTION"):
            inside, seen = True, True
            continue
        if stripped.startswith("### END SOLUTION"):
            inside = False
            continue
        if inside or not seen:
            out.append(line)
    return "\n".join(out if seen else lines)


def reference_submission(
    source: nbformat.NotebookNode, released: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The released notebook with each solution cell filled from the source notebook."""
    nb = copy.deepcopy(released)
    by_id = {nbgrader_meta(c).get("grade_id"): c for c in source.cells if nbgrader_meta(c)}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = _solution_only(by_id[meta["grade_id"]].source)
    return nb


def _solution_only(source: str) -> str:
    """The source with the solution markers removed (what a student would have typed)."""
    return "\n".join(
        line
        for line in source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def split_chunks(code: str) -> list[tuple[str, str | None, str]]:
    """Split case code on '# %% ...' markers -> [(kind, grade_id, source)]."""
    chunks: list[tuple[str, str | None, list[str]]] = [("first", None, [])]
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("# %% solution "):
            chunks.append(("solution", stripped.removeprefix("# %% solution ").strip(), []))
        elif stripped.startswith("# %% cell after "):
            chunks.append(("after", stripped.removeprefix("# %% cell after ").strip(), []))
        elif stripped == "# %% cell at end":
            chunks.append(("end", None, []))
        else:
            chunks[-1][2].append(line)
    return [(kind, gid, "\n".join(lines).strip("\n")) for kind, gid, lines in chunks]


def build_submission(case: Case, released: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The released notebook with the case's code placed and its edits applied."""
    if case.notebook is not None:
        return copy.deepcopy(case.notebook)
    nb = copy.deepcopy(released)
    chunks = split_chunks(case.code)
    solution_ids = solution_cell_ids(nb)
    named = [gid for kind, gid, _ in chunks if kind == "solution"]
    cells = {nbgrader_meta(c).get("grade_id"): c for c in nb.cells if nbgrader_meta(c)}
    first_source = chunks[0][2]
    if not named:
        for gid in solution_ids:
            cells[gid].source = ""
    if first_source.strip() or not named:
        cells[solution_ids[0]].source = first_source
    inserted_after: dict[str, int] = {}
    for kind, gid, source in chunks[1:]:
        if kind == "solution":
            cells[gid].source = source
        elif kind == "after":
            index = _index_of(nb, gid) + 1 + inserted_after.get(gid, 0)
            nb.cells.insert(index, nbformat.v4.new_code_cell(source))
            inserted_after[gid] = inserted_after.get(gid, 0) + 1
        elif kind == "end":
            nb.cells.append(nbformat.v4.new_code_cell(source))
    for edit in case.edits:
        apply_edit(nb, edit)
    return nb


def _index_of(nb: nbformat.NotebookNode, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return i
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def _targets(nb: nbformat.NotebookNode, grade_id: str) -> list[int]:
    if grade_id == "*tests":
        tests = set(graded_test_cells(nb))
        return [i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") in tests]
    return [_index_of(nb, grade_id)]


def apply_edit(nb: nbformat.NotebookNode, edit: dict) -> None:
    op = edit["op"]
    if op == "set_notebook_metadata":
        nb.metadata[edit["key"]] = edit["value"]
        return
    if op == "append":
        nb.cells.append(nbformat.v4.new_code_cell(edit["source"]))
        return
    if op == "insert_after":
        nb.cells.insert(
            _index_of(nb, edit["grade_id"]) + 1, nbformat.v4.new_code_cell(edit["source"])
        )
        return
    indices = _targets(nb, edit["grade_id"])
    if op == "delete":
        for i in sorted(indices, reverse=True):
            del nb.cells[i]
    elif op == "strip_metadata":
        for i in indices:
            nb.cells[i].metadata.pop("nbgrader", None)
            nb.cells[i].metadata.pop("editable", None)
            nb.cells[i].metadata.pop("deletable", None)
    elif op == "prepend":
        for i in indices:
            nb.cells[i].source = edit["source"] + nb.cells[i].source
    elif op == "set_source":
        for i in indices:
            nb.cells[i].source = edit["source"]
    elif op == "set_metadata":
        for i in indices:
            nb.cells[i].metadata["nbgrader"][edit["key"]] = edit["value"]
    else:
        raise ValueError(f"unknown edit op {op!r}")


# ----------------------------------------------------------------------------- the course


@dataclass
class CellResult:
    score: float | None
    max_score: float
    message: str
    review: bool = False  # flagged needs_manual_grade in the gradebook


@dataclass
class StudentResult:
    cells: dict[str, CellResult]
    autograded: bool  # nbgrader wrote the autograded notebook

    @property
    def total(self) -> float:
        return sum(c.score or 0.0 for c in self.cells.values())


class Course:
    """A throwaway nbgrader course folder that uses the repo's nbgrader_config.py."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            f"_path = {str(REPO / 'nbgrader_config.py')!r}\n"
            "exec(compile(open(_path).read(), _path, 'exec'),"
            " {'get_config': get_config, '__file__': _path})  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(root)!r}\n",
            encoding="utf-8",
        )
        self.logs: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        bindir = str(Path(sys.executable).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        env["JUPYTER_CONFIG_DIR"] = str(self.root / ".jupyter")
        env["PYTHONHASHSEED"] = "0"
        env.setdefault("OMP_NUM_THREADS", "1")
        return env

    def nbgrader(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "nbgrader", *args]
        proc = subprocess.run(
            cmd,
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.logs[" ".join(args)] = proc.stdout + proc.stderr
        return proc

    def generate(self, assignment_id: str) -> Path:
        """Copy the source notebook in and run `nbgrader generate_assignment`."""
        shutil.copytree(
            SOLUTIONS / assignment_id, self.root / "solutions" / assignment_id, dirs_exist_ok=True
        )
        proc = self.nbgrader("generate_assignment", assignment_id, "--force")
        if proc.returncode != 0:
            raise RuntimeError(f"generate_assignment failed:\n{proc.stdout}\n{proc.stderr}")
        return self.root / "assignments" / assignment_id

    def submit(self, assignment_id: str, student: str, nb: nbformat.NotebookNode) -> None:
        folder = self.root / "submitted" / student / assignment_id
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment_id}.ipynb")

    def autograde(self, assignment_id: str) -> subprocess.CompletedProcess:
        return self.nbgrader("autograde", assignment_id, "--force")

    def grade(self, assignment_id: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        """`course grade ID` as an instructor runs it: nbgrader's Autograde and GenerateFeedback
        converters in two local workers, warm kernels, results merged into the gradebook."""
        cmd = [sys.executable, "-m", "coursekit.cli", "grade", assignment_id]
        cmd += ["--workers", "2", "--no-progress", "--course", str(self.root)]
        proc = subprocess.run(
            cmd, cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        self.logs["course grade " + assignment_id] = proc.stdout + proc.stderr
        return proc

    def autograded_notebook(self, assignment_id: str, student: str) -> Path:
        return self.root / "autograded" / student / assignment_id / f"{assignment_id}.ipynb"

    def feedback_html(self, assignment_id: str, student: str) -> Path:
        return self.root / "feedback" / student / assignment_id / f"{assignment_id}.html"

    def rows(self, assignment_id: str) -> dict[str, tuple[str, str]]:
        """student -> (status, reason) of `course grade`'s reports/ID/grades.csv."""
        with open(self.root / "reports" / assignment_id / "grades.csv", newline="") as f:
            return {r["student"]: (r["status"], r["reason"]) for r in csv.DictReader(f)}

    def results(self, assignment_id: str, students: list[str]) -> dict[str, StudentResult]:
        """Scores from the gradebook, messages from the autograded notebooks."""
        from nbgrader.api import Gradebook, MissingEntry

        results = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            for student in students:
                path = self.autograded_notebook(assignment_id, student)
                messages = _messages(path) if path.exists() else {}
                cells = {}
                try:
                    sub = gb.find_submission_notebook(assignment_id, assignment_id, student)
                    grades = list(sub.grades)
                except MissingEntry:
                    grades = []
                for grade in grades:
                    if grade.cell_type != "code":
                        continue
                    score = grade.score
                    cells[grade.name] = CellResult(
                        score=None if score is None else float(score),
                        max_score=float(grade.max_score),
                        message=messages.get(grade.name, ""),
                        review=bool(grade.needs_manual_grade),
                    )
                results[student] = StudentResult(cells=cells, autograded=path.exists())
        return results


def _messages(path: Path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    out = {}
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if not gid or cell.cell_type != "code":
            continue
        parts = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {output.evalue}")
                parts.extend(output.traceback)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(str(output.get("data", {}).get("text/plain", "")))
        out[gid] = "\n".join(parts)
    return out


# ----------------------------------------------------------------------------- verdicts


def misgrading(case: Case, result: StudentResult, graded: dict[str, float]) -> list[str]:
    """Why the grader's outcome differs from the case's EXPECT (empty list = graded right)."""
    problems = []
    if not result.autograded:
        problems.append("nbgrader did not produce an autograded notebook")
    missing = set(graded) - set(result.cells)
    if missing:
        problems.append(f"no grade recorded for {sorted(missing)}")
    expect = case.expect
    lose = dict(expect.get("lose", {}))
    if "*" in lose:
        substring = lose.pop("*")
        lose = {gid: lose.get(gid, substring) for gid in graded}
    unknown = set(lose) - set(graded)
    if unknown:
        problems.append(f"EXPECT names unknown grade_ids {sorted(unknown)}")
    for gid, points in graded.items():
        cell = result.cells.get(gid)
        if cell is None:
            continue
        score = cell.score if cell.score is not None else 0.0
        if gid in lose:
            if score >= points:
                problems.append(f"{gid}: expected to lose points, got {score:g}/{points:g}")
            substring = lose[gid]
            if substring and substring.lower() not in cell.message.lower():
                problems.append(
                    f"{gid}: message should mention {substring!r}, got {cell.message.strip()!r}"
                )
        elif score != points:
            problems.append(
                f"{gid}: expected full marks, got {score:g}/{points:g}: {cell.message.strip()!r}"
            )
    problems += _review_problems(expect, result, graded)
    # nbgrader's gradebook keeps scores to 6 decimals (2/3 of a point is stored as 0.666667)
    for gid, exact in expect.get("score", {}).items():
        cell = result.cells.get(gid)
        if cell is None or abs(cell.score - float(exact)) > SCORE_ROUNDING:
            problems.append(f"{gid}: expected exactly {exact}, got {cell and cell.score}")
    if "total" in expect and abs(result.total - float(expect["total"])) > 10 * SCORE_ROUNDING:
        problems.append(f"total: expected {expect['total']}, got {result.total:g}")
    return problems


REVIEW_NOTE = "[review]"  # coursekit.verdicts.nbgrader_glue.REVIEW_MARKER


def _review_problems(expect: dict, result: StudentResult, graded: dict[str, float]) -> list[str]:
    """The cells flagged for manual grading must be exactly EXPECT["review"] (default none),
    and each flagged cell must show its review note to the student."""
    wanted = set(expect.get("review", []))
    if "*" in wanted:
        wanted = set(graded)
    flagged = {gid for gid, cell in result.cells.items() if cell.review and gid in graded}
    problems = []
    if flagged != wanted:
        problems.append(
            f"review: expected {sorted(wanted) or 'none'}, flagged {sorted(flagged) or 'none'}"
            + "".join(
                f"; {gid}: {result.cells[gid].message.strip()!r}" for gid in sorted(flagged)[:1]
            )
        )
    for gid in sorted(flagged):
        if REVIEW_NOTE not in result.cells[gid].message:
            problems.append(f"{gid}: flagged for review but its output has no review note")
    return problems


def leaked(result: StudentResult, hidden: list[str]) -> list[str]:
    """Hidden values (``hidden_values()`` of the problem set) that appear in a message."""
    return [
        f"{gid}: its message shows the hidden value {value!r}"
        for gid, cell in result.cells.items()
        for value in hidden
        if value and value in cell.message
    ]


def twin_mismatch(a: StudentResult, b: StudentResult) -> list[str]:
    problems = []
    for gid in sorted(set(a.cells) | set(b.cells)):
        ca, cb = a.cells.get(gid), b.cells.get(gid)
        if ca is None or cb is None or ca.score != cb.score or ca.message != cb.message:
            problems.append(f"{gid}: {ca} != {cb}")
    return problems


# ----------------------------------------------------------------------------- a full run


@dataclass
class SetRun:
    assignment_id: str
    course: Course
    cases: list[Case]
    graded: dict[str, float]
    results: dict[str, StudentResult]
    autograde_log: str
    seconds: float
    released_dir: Path
    engine: str = "course"
    rows: dict[str, tuple[str, str]] = field(default_factory=dict)  # course grade's status, reason

    def verdicts(self) -> dict[str, list[str]]:
        """case name -> misgrading reasons (empty = right). Escape cases (``escape_*``) must
        also keep every hidden value out of their messages. Under `course grade`, an honest case
        (``correct_*``, ``fairness_*``, the reference) that loses nothing and needs no review
        must also have a clean row (status ok, no reason): a finding there (say, a refused
        write in a cell) would show the instructor a problem where the student made none.
        ``EXPECT["row"]`` names the finding an honest case does cause (a slow cell's time-out)."""
        out = {}
        for case in self.cases:
            problems = misgrading(case, self.results[case.name], self.graded)
            honest = case.name.startswith(HONEST_PREFIXES)
            clean = honest and not case.expect.get("lose") and not case.expect.get("review")
            if self.engine == "course" and clean:
                status, reason = self.rows.get(case.name, ("no row", ""))
                wanted = case.expect.get("row", "")
                if wanted and wanted.lower() not in reason.lower():
                    problems.append(f"course grade's row should say {wanted!r}, says {reason!r}")
                elif not wanted and (status != "ok" or reason):
                    problems.append(f"course grade's row says {status}: {reason}")
            if case.name.startswith("escape_"):
                hidden = hidden_values(self.assignment_id, self.course.root, case.name)
                problems += leaked(self.results[case.name], hidden)
            if case.name.endswith(TWIN_SUFFIX):
                original = case.name.removesuffix(TWIN_SUFFIX)
                problems += twin_mismatch(self.results[original], self.results[case.name])
            out[case.name] = problems
        return out


def hidden_values(assignment_id: str, root: Path, student: str) -> list[str]:
    """What this student's feedback must never show: the problem set's ``hidden_values(seed)``
    for every seed the gradebook recorded for the student (``hidden_values()`` if it takes no
    seed), or none."""
    import importlib
    import inspect

    from coursekit.verdicts import seeds

    module = importlib.import_module(f"coursekit.problemsets.{assignment_id}")
    function = getattr(module, "hidden_values", None)
    if function is None:
        return []
    if not inspect.signature(function).parameters:
        return list(function())
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    records = seeds.lookup(db_url, assignment_id, student)
    return [value for record in records for value in function(record.seed)]


ENGINES = ("course", "nbgrader")
HONEST_PREFIXES = ("correct_", "fairness_", "reference_solution")  # cases of honest work
# The set whose corpus is graded both ways (tests/problemsets/conftest.py): a chapter set, whose
# corpus has every kind of case and is small.
PLAIN_SET = "ch03_matmul"


def run_set(assignment_id: str, root: Path, engine: str = "course") -> SetRun:
    """Generate, submit every case, grade them all in one call, read the results. ``engine``:
    "course" is one `course grade` (what instructors run: nbgrader's converters in two workers
    with warm kernels), "nbgrader" one plain `nbgrader autograde` (a fresh kernel each)."""
    import time

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    course = Course(root)
    released_dir = course.generate(assignment_id)
    released = nbformat.read(released_dir / f"{assignment_id}.ipynb", as_version=4)
    cases = load_corpus(assignment_id)
    for case in cases:
        course.submit(assignment_id, case.name, build_submission(case, released))
    start = time.perf_counter()
    proc = course.grade(assignment_id) if engine == "course" else course.autograde(assignment_id)
    seconds = time.perf_counter() - start
    if engine == "course" and proc.returncode != 0:
        raise RuntimeError(f"course grade {assignment_id} failed:\n{proc.stdout}\n{proc.stderr}")
    results = course.results(assignment_id, [c.name for c in cases])
    rows = course.rows(assignment_id) if engine == "course" else {}
    return SetRun(
        assignment_id=assignment_id,
        course=course,
        cases=cases,
        graded=graded_test_cells(read_source(assignment_id)),
        results=results,
        autograde_log=proc.stdout + proc.stderr,
        seconds=seconds,
        released_dir=released_dir,
        engine=engine,
        rows=rows,
    )


def run_sets(
    assignment_ids: list[str], base: Path, workers: int = 2, engine: str = "course"
) -> dict[str, SetRun]:
    """Run several sets, ``workers`` at a time (each one `course grade` or nbgrader call)."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {aid: pool.submit(run_set, aid, base / aid, engine) for aid in assignment_ids}
        return {aid: fut.result() for aid, fut in futures.items()}


def dump(run: SetRun) -> str:
    """A readable summary of a set's run, for failure reports."""
    lines = [f"{run.assignment_id}: autograde took {run.seconds:.1f} s"]
    for name, problems in run.verdicts().items():
        status = "ok" if not problems else "MISGRADED: " + "; ".join(problems)
        lines.append(f"  {name}: {status}")
    return "\n".join(lines)


def as_json(run: SetRun) -> str:
    return json.dumps(
        {
            name: {gid: [c.score, c.max_score, c.message] for gid, c in res.cells.items()}
            for name, res in run.results.items()
        },
        indent=1,
        ensure_ascii=False,
    )
