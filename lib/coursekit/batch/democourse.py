"""A small, self-contained nbgrader course and a class of student submissions, good and bad.

The grading pipeline's tests and benchmark build it in a temporary folder, so they do not depend
on the content of the real problem sets. ``make_course`` writes an ``nbgrader_config.py`` and the
source notebook ``solutions/ps0_demo/ps0_demo.ipynb`` (two solution cells, three graded test
cells worth 1 + 2 + 2 points, one of them with hidden tests); ``course release`` then generates
``assignments/`` and records the master copy in the gradebook. ``write_class`` writes one
submission per kind in ``KINDS`` (every bad kind the grading pipeline must survive, plus correct
and partly correct ones) under ``submitted/<kind>/ps0_demo/``.

The bad kinds are built to be safe to run even without any limits: the fork bomb is bounded
(at most 2**11 processes, each gone within 3 s), the memory bomb stops at 8 GiB of untouched
address space, and the gigantic output at 60 MB.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "ps0_demo"

CONFIG = '''"""nbgrader configuration of the demo course (written by coursekit.batch.democourse)."""

import os

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "demo"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
'''

SQUARES = '''def squares(n):
    """The list [0, 1, 4, ..., (n - 1) ** 2]."""
    ### BEGIN SOLUTION
    return [i * i for i in range(n)]
    ### END SOLUTION'''

MEAN = '''def mean(xs):
    """The arithmetic mean of a non-empty list of numbers."""
    ### BEGIN SOLUTION
    return sum(xs) / len(xs)
    ### END SOLUTION'''

TEST_SQUARES = "assert squares(4) == [0, 1, 4, 9]"
TEST_SQUARES_HIDDEN = """assert squares(0) == []
### BEGIN HIDDEN TESTS
assert squares(12)[-1] == 121
### END HIDDEN TESTS"""
TEST_MEAN = "assert mean([1, 2, 3, 4]) == 2.5"
TORCH_SETUP = "import torch\n\ntorch.manual_seed(0)"
TORCH_TEST = "assert torch.tensor(squares(5)).sum().item() == 30"

PARTS = {"test_squares": 1.0, "test_squares_hidden": 2.0, "test_mean": 2.0}


def _meta(grade_id: str, *, solution: bool = False, points: float = 0.0) -> dict:
    grade = points > 0
    return {
        "nbgrader": {
            "grade": grade,
            "grade_id": grade_id,
            "locked": not solution,
            "schema_version": 3,
            "solution": solution,
            "task": False,
            **({"points": points} if grade else {}),
        }
    }


def source_notebook(with_torch: bool = False) -> nbformat.NotebookNode:
    """The instructor's source notebook (solutions and hidden tests in it)."""
    cells = [new_markdown_cell("# Problem set 0: squares and means")]
    if with_torch:
        cells.append(new_code_cell(TORCH_SETUP))
    cells += [
        new_code_cell(SQUARES, metadata=_meta("squares", solution=True)),
        new_code_cell(TEST_SQUARES, metadata=_meta("test_squares", points=1)),
        new_code_cell(TEST_SQUARES_HIDDEN, metadata=_meta("test_squares_hidden", points=2)),
        new_code_cell(MEAN, metadata=_meta("mean", solution=True)),
        new_code_cell(TEST_MEAN, metadata=_meta("test_mean", points=2)),
    ]
    if with_torch:
        cells[3].source += "\n" + TORCH_TEST
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


def make_course(root: Path, with_torch: bool = False) -> Path:
    """Write the demo course's config and source notebook under ``root``; return ``root``."""
    root = Path(root)
    (root / "solutions" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    nbformat.write(
        source_notebook(with_torch), root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    )
    return root


# ----------------------------------------------------------------------------- the class


def _set(nb: dict, grade_id: str, source: str) -> dict:
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = source
            return nb
    raise KeyError(grade_id)


def _answer(squares: str, mean: str) -> Callable[[dict], dict]:
    def edit(nb: dict) -> dict:
        return _set(_set(nb, "squares", squares), "mean", mean)

    return edit


def _append(code: str) -> Callable[[dict], dict]:
    """A correct submission with one more cell, added by the student at the end."""

    def edit(nb: dict) -> dict:
        nb = CORRECT(nb)
        nb["cells"].append(json.loads(json.dumps(new_code_cell(code))))
        return nb

    return edit


def _index(nb: dict, grade_id: str) -> int:
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    return ids.index(grade_id)


CORRECT = _answer(
    "def squares(n):\n    return [i * i for i in range(n)]",
    "def mean(xs):\n    return sum(xs) / len(xs)",
)


def _deleted_cell(nb: dict) -> dict:
    nb = CORRECT(nb)
    del nb["cells"][_index(nb, "test_mean")]
    return nb


def _duplicated_cell(nb: dict) -> dict:
    nb = CORRECT(nb)
    at = _index(nb, "squares")
    wrong = copy.deepcopy(nb["cells"][at])
    wrong["source"] = "def squares(n):\n    return []"
    nb["cells"].insert(at, wrong)  # the wrong copy first: the correct one, last, wins
    return nb


def _deleted_metadata(nb: dict) -> dict:
    nb = CORRECT(nb)
    nb["cells"][_index(nb, "test_squares")]["metadata"].pop("nbgrader")
    return nb


def _changed_cell_type(nb: dict) -> dict:
    nb = CORRECT(nb)
    cell = nb["cells"][_index(nb, "mean")]
    cell["cell_type"] = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)
    return nb


FORK_BOMB = """import os, time
root = os.getpid()
try:
    for _ in range(11):  # bounded: at most 2**11 processes, each gone within 3 s
        os.fork()
finally:
    if os.getpid() != root:
        time.sleep(3)
        os._exit(0)"""

# bytes(n) is calloc'd: each 100 MiB counts against the address-space limit at once, without
# writing a page, so the limit is hit in milliseconds on any machine. A bytearray is written
# (memset) and took 2.7 s to reach 2 GiB on a quiet machine, over the 5 s cell limit under load.
MEMORY_BOMB = """hog = []
for _ in range(80):  # stops at 8 GiB of address space even with no limit at all
    hog.append(bytes(100 * 1024 * 1024))"""

GIGANTIC_OUTPUT = """for i in range(6_000):  # 60 MB of output
    print("x" * 9_999)"""


def write_outside(victim: Path) -> Callable[[dict], dict]:
    return _append(
        f"with open({str(victim)!r}, 'w') as f:\n    f.write('overwritten by a student')"
    )


KINDS: dict[str, Callable[[dict], dict] | None] = {
    "correct_solution": CORRECT,
    "correct_loops": _answer(
        "def squares(n):\n    out = []\n    for i in range(n):\n        out.append(i ** 2)\n"
        "    return out",
        "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n"
        "    return total / len(xs)",
    ),
    "correct_stdlib": _answer(
        "def squares(n):\n    return list(map(lambda i: i * i, range(n)))",
        "import statistics\n\ndef mean(xs):\n    return statistics.fmean(xs)",
    ),
    "partly_squares": _answer(
        "def squares(n):\n    return [i * i for i in range(min(n, 10))]",
        "def mean(xs):\n    return sum(xs) / len(xs)",
    ),
    "partly_mean": _answer(
        "def squares(n):\n    return [i * i for i in range(n)]",
        "def mean(xs):\n    return sum(xs) // len(xs)",
    ),
    "unmodified": lambda nb: nb,
    "malformed_json": None,  # written specially (see write_class)
    "wrong_file_name": CORRECT,  # saved under another name
    "missing_notebook": None,
    "deleted_cell": _deleted_cell,
    "duplicated_cell": _duplicated_cell,
    "deleted_metadata": _deleted_metadata,
    "changed_cell_type": _changed_cell_type,
    "infinite_loop": _answer(
        "def squares(n):\n    return [i * i for i in range(n)]",
        "while True:\n    pass",
    ),
    "memory_bomb": _append(MEMORY_BOMB),
    "fork_bomb": _append(FORK_BOMB),
    "sys_exit": _append("import sys\nsys.exit(0)"),
    "os_exit": _append("import os\nos._exit(0)"),
    "kernel_crash": _append("import ctypes\nctypes.string_at(0)"),
    "gigantic_output": _append(GIGANTIC_OUTPUT),
    "write_outside": None,  # needs the victim's path (see write_class)
}

# Not a bad kind: correct, but slow enough for a test to kill its worker in the middle.
SLOW = _append("import time\n\ntime.sleep(4)")

GOOD_KINDS = (
    "correct_solution",
    "correct_loops",
    "correct_stdlib",
    "partly_squares",
    "partly_mean",
)


def released(root: Path) -> dict:
    """The released student notebook (run ``course release`` first)."""
    path = Path(root) / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return json.loads(path.read_text())


def write_submission(root: Path, student: str, kind: str) -> Path:
    """Write ``submitted/<student>/ps0_demo/`` for one kind; return the folder."""
    root = Path(root)
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{ASSIGNMENT}.ipynb"
    if kind == "missing_notebook":
        (folder / "notes.txt").write_text("I could not finish, sorry.\n")
        return folder
    if kind == "malformed_json":
        text = json.dumps(CORRECT(released(root)), indent=1)
        target.write_text(text[: len(text) // 2])
        return folder
    if kind == "slow":
        edit = SLOW
    elif kind == "write_outside":
        victim = root / "submitted" / "correct_solution" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        edit = write_outside(victim)
    else:
        edit = KINDS[kind]
    notebook = edit(copy.deepcopy(released(root)))
    if kind == "correct_loops":  # one submission with a time stamp, as nbgrader collect writes
        (folder / "timestamp.txt").write_text("2026-01-15 09:30:00.000000 UTC")
    if kind == "wrong_file_name":
        target = folder / f"{ASSIGNMENT}-Copy1.ipynb"
    target.write_text(json.dumps(notebook, indent=1))
    return folder


def write_class(root: Path, kinds: list[str] | None = None, copies: int = 1) -> list[str]:
    """One student per kind (``copies`` of each, suffixed -2, -3...), plus a student with no
    submission folder for this assignment. Returns the student ids."""
    students = []
    for kind in kinds if kinds is not None else list(KINDS):
        for n in range(1, copies + 1):
            student = kind if n == 1 else f"{kind}-{n}"
            write_submission(root, student, kind)
            students.append(student)
    return students


def add_student_without_submission(root: Path, student: str = "no_submission") -> str:
    (Path(root) / "submitted" / student / "other_assignment").mkdir(parents=True, exist_ok=True)
    return student
