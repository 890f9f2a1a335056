"""Unit tests of the grading framework, without nbgrader: static analysis, sandbox, contract."""

from __future__ import annotations

import math
import types
from pathlib import Path

import pytest
import torch

from coursekit.verdicts.checks import Check, GradingFailure, ShortcutError, StudentError
from coursekit.verdicts.grader import grade_cells, neutralise_ipython, student_cells
from coursekit.verdicts.sandbox import SandboxStudent
from coursekit.verdicts.static import StaticReport, analyze

# ----------------------------------------------------------------------------- static


def _families(source: str, function: str = "f") -> dict[str, list[str]]:
    report = analyze([source], [function])
    out: dict[str, list[str]] = {}
    for family, text in report.findings(function):
        out.setdefault(family, []).append(text)
    return out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import torch\ndef f(A):\n    return torch.linalg.eigvalsh(A)", "torch.linalg.eigvalsh"),
        ("from torch.linalg import eigh as g\ndef f(A):\n    return g(A)", "torch.linalg.eigh"),
        ("import numpy as q\nL = q.linalg\ndef f(A):\n    return L.svd(A)", "numpy.linalg.svd"),
        ("def h(M):\n    return M.svd()\ndef f(A):\n    return h(A)", ".svd()"),
        ("import torch as t\ndef f(A):\n    return t.lobpcg(A)", "torch.lobpcg"),
        ("import scipy.linalg as s\ndef f(A):\n    return s.eigvalsh(A)", "scipy.linalg.eigvalsh"),
    ],
)
def test_static_names_spectral_shortcuts_under_aliases(source: str, expected: str) -> None:
    found = _families(source).get("spectral", [])
    assert any(expected in text for text in found), found


HONEST = [
    "import torch\ndef f(v):\n    return torch.linalg.norm(v, 2)",  # a vector norm: legitimate
    "import torch\ndef f(v):\n    return torch.linalg.vector_norm(v) * v.norm()",
    "import torch\neig = 3.0\ndef f(v):\n    eigvals = v * eig\n    return eigvals",
    "import torch\ntorch.allclose = lambda *a, **k: True\nimport math\nmath.isclose = None\n"
    "abs = print\nimport sys\nsys.exit(0)\nimport os\nos._exit(0)\ndef f(v):\n    return v",
    # ordinary modules and builtins that used to zero a notebook
    "import gc, io, inspect, pickle\nfrom pathlib import Path\nfrom types import SimpleNamespace\n"
    "gc.collect()\nns = SimpleNamespace()\nfor n in 'ab':\n    setattr(ns, n, 1)\n"
    "g = globals()\nv = vars(ns)\nbreakpoint()\nwith open('losses.csv', 'w') as f:\n"
    "    f.write('x')\nimport torch\nh = torch.compile(len)\ndef f(v):\n    return v",
    # the layer-class style of chapter 5: backward methods, requires_grad reads, no_grad
    "import torch\nclass Lin:\n    def backward(self, g):\n        self.grad = g\n"
    "def f(W):\n    if W.requires_grad:\n        pass\n    with torch.autograd.no_grad():\n"
    "        layer = Lin()\n        layer.backward(W)\n    return layer.grad",
    # a scratch helper named like a local variable of f is not reachable from f
    "import torch\ndef lam(A):\n    return torch.linalg.eigvalsh(A)[-1]\n"
    "def f(A):\n    lam = A.sum()\n    return lam",
]


@pytest.mark.parametrize("source", HONEST)
def test_static_leaves_legitimate_and_harmless_code_alone(source: str) -> None:
    assert _families(source) == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = eval('1')", "eval"),
        ("import torch\nf = getattr(torch.linalg, 'eig' + 'h')", "computed attribute name"),
        ("import torch\ng = getattr\nf = g(torch.linalg, 'eigh')", "getattr under another name"),
        ("import operator\nf = operator.attrgetter('linalg.eigh')", "operator.attrgetter"),
        ("import pkgutil\nf = pkgutil.resolve_name('torch.linalg:eigh')", "resolve_name"),
        ("import logging\nlogging.os.write(1, b'x')", "logging.os.write"),
        ("import os\nm = os.sys.modules", "os.sys.modules"),
        ("import sys\nframe = sys._getframe(0)", "sys._getframe"),
        ("import ctypes", "imports ctypes"),
        ("import gc\nobjects = gc.get_objects()", "gc.get_objects"),
        ("import sys\nm = sys.modules", "sys.modules"),
        ("def g():\n    pass\nc = g.__closure__", "__closure__"),
        ("import torch\ntorch._C._set_grad_enabled(True)", "torch._C"),
        ("import os\nos.write(1, b'x')", "os.write"),
        ("from torch.utils._python_dispatch import TorchDispatchMode", "_python_dispatch"),
        ("data = open(5, 'w')", "file descriptor"),
        ("p = open('/proc/self/fd/5')", "/proc/self/fd/5"),
    ],
)
def test_static_names_suspicious_constructs_for_review(source: str, expected: str) -> None:
    report = analyze([source], [])
    assert any(expected in t for t in report.suspicious), report.suspicious


def test_static_reachability_follows_helpers_not_shadowing_locals() -> None:
    source = (
        "import torch\n"
        "def lam(A):\n    return torch.linalg.eigvalsh(A)[-1]\n"
        "def uses(A):\n    return lam(A)\n"
        "def shadows(A):\n    lam = A.sum()\n    return lam\n"
        "def backward_style(x):\n    x.backward()\n    return x.grad\n"
    )
    report = analyze([source], ["uses", "shadows", "backward_style"])
    assert report.findings("uses") == [("spectral", "calls torch.linalg.eigvalsh")]
    assert report.findings("shadows") == []
    assert report.findings("backward_style") == []  # autograd is the runtime's business


def test_ipython_syntax_is_neutralised_not_dropped() -> None:
    source = "%matplotlib inline\ndef f():\n    return 1\n!ls\nf?"
    out = neutralise_ipython(source)
    compile(out, "<cell>", "exec")
    assert "def f():" in out


def test_student_cells_keep_setup_and_answers_but_skip_tests() -> None:
    def code(source: str, grade_id: str | None = None) -> dict:
        meta = {"nbgrader": {"grade_id": grade_id}} if grade_id else {}
        return {"cell_type": "code", "source": source, "metadata": meta}

    cells = [
        code("import torch", "imports"),  # read-only setup: runs
        code("x = 1", "graded"),  # a graded test: never
        code("assert f(1) == 2", "visible"),  # a read-only visible test (calls f): skipped
        code("assert f(1) == 2"),  # the same test with its metadata stripped: skipped
        {"cell_type": "markdown", "source": "text", "metadata": {}},
        code("def f(x):\n    return 2 * x", "answer"),
        code("y = f(3)"),  # a cell the student added: runs
    ]
    out = student_cells(
        cells,
        locked_ids={"imports", "graded", "visible"},
        locked_sources={"import torch", "x = 1", "assert f(1) == 2"},
        functions=("f",),
        graded_ids={"graded"},
    )
    assert out == ["import torch", "def f(x):\n    return 2 * x", "y = f(3)"]


# ----------------------------------------------------------------------------- sandbox

CELLS = [
    "import math, os, sys, warnings\nimport numpy as np\nimport torch",
    """
def ok(A):
    return A @ A, float(A.sum()), [1, 2.5, None, True], {"k": (torch.zeros(2), "s")}

def power(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.vector_norm(v)
    return v @ A @ v

def spectral_norm(A):
    return torch.linalg.norm(A, 2)

def vector_norm(v):
    return torch.linalg.norm(v, 2)

def numpy_eig(A):
    f = np.linalg.eigvalsh
    return float(f(A.numpy())[-1])

def hidden_backward(w):
    w = w.detach().requires_grad_(True)
    (w * w).sum().backward()
    return w.grad

def update_in_place(w):
    w.data.mul_(2.0)
    w.grad = torch.ones_like(w)
    return None

def raises(x):
    raise ValueError("bad input shape")

def sleeps(x):
    while True:
        pass

def exits(x):
    os._exit(3)

def nan_value(x):
    return float("nan")

class Rigged:
    def __eq__(self, other):
        return True

def rigged(x):
    return Rigged()

class Sub(torch.Tensor):
    pass

def subclass(x):
    return torch.zeros(2).as_subclass(Sub)

def noisy(x):
    warnings.warn("a warning")
    print("to stderr", file=sys.stderr)
    return x
""",
    "raise RuntimeError('a broken scratch cell')",
    "sys.exit(1)",
]
FUNCTIONS = (
    "ok", "power", "spectral_norm", "vector_norm", "numpy_eig", "hidden_backward",
    "update_in_place", "raises", "sleeps", "exits", "nan_value", "rigged", "subclass", "noisy",
    "missing",
)  # fmt: skip


@pytest.fixture(scope="module")
def student():
    problemset = types.SimpleNamespace(
        FUNCTIONS=FUNCTIONS,
        FORBIDDEN={"spectral_norm": ("spectral",), "numpy_eig": ("spectral",),
                   "vector_norm": ("spectral",), "hidden_backward": ("autograd",)},
    )  # fmt: skip
    with SandboxStudent(CELLS, problemset, analyze(CELLS, FUNCTIONS)) as s:
        yield s


def test_sandbox_returns_plain_rebuilt_values(student) -> None:
    A = torch.arange(4.0, dtype=torch.float64).reshape(2, 2)
    square, total, items, mapping = student.call("ok", A)
    assert type(square) is torch.Tensor and square.dtype == torch.float64
    assert torch.equal(square, A @ A)
    assert total == 6.0 and items == [1, 2.5, None, True]
    assert torch.equal(mapping["k"][0], torch.zeros(2)) and mapping["k"][1] == "s"
    assert student.cell_errors == [
        "cell 3 raised RuntimeError: a broken scratch cell",
        "cell 4 raised SystemExit: 1",
    ]


def test_sandbox_calls_are_seeded_and_deterministic(student) -> None:
    A = torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64))
    first, second = student.call("power", A, 40), student.call("power", A, 40)
    assert torch.equal(first, second) and abs(first.item() - 3.0) < 1e-12


def test_runtime_traps_tell_matrix_norms_from_vector_norms(student) -> None:
    with pytest.raises(ShortcutError, match="torch.linalg.norm"):
        student.call("spectral_norm", torch.eye(3))
    assert student.call("vector_norm", torch.ones(4)).item() == 2.0
    assert student.shortcuts("vector_norm") == []
    with pytest.raises(ShortcutError, match="numpy.linalg.eigvalsh"):
        student.call("numpy_eig", torch.eye(3, dtype=torch.float64))


def test_runtime_traps_see_autograd(student) -> None:
    with pytest.raises(ShortcutError, match="automatic differentiation"):
        student.call("hidden_backward", torch.ones(3))
    grad = student.call("hidden_backward", torch.ones(3), allow_shortcuts=True)
    assert torch.equal(grad, 2 * torch.ones(3))
    runtime = [text for family, text in student.findings("hidden_backward") if "backward" in text]
    assert any("backward pass" in text for text in runtime), runtime


def test_return_args_shows_in_place_updates(student) -> None:
    w = torch.ones(3, requires_grad=True)
    result, (after,) = student.call("update_in_place", w, return_args=True)
    assert result is None and torch.equal(after.detach(), 2 * torch.ones(3))
    assert after.requires_grad and torch.equal(after.grad, torch.ones(3))
    assert torch.equal(w.detach(), torch.ones(3)), "the parent's tensor must not change"


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("raises", "raises raised ValueError: bad input shape (at cell 2, line"),
        ("rigged", "returned an object of type Rigged"),
        ("subclass", "a subclass of torch.Tensor"),
        ("missing", "missing is not defined"),
    ],
)
def test_student_errors_are_readable(student, function: str, message: str) -> None:
    with pytest.raises(StudentError, match=message.replace("(", r"\(")):
        student.call(function, 1.0)


def test_exits_and_timeouts_do_not_break_the_next_call(student) -> None:
    with pytest.raises(StudentError, match="did not return within 1 s"):
        student.call("sleeps", 1.0, timeout=1.0)
    with pytest.raises(StudentError, match="os._exit is disabled"):
        student.call("exits", 1.0)
    assert math.isnan(student.call("nan_value", 0.0))
    assert student.call("noisy", 2.5) == 2.5


ROUTES = [
    "import torch, numpy as np, operator, pkgutil\nfrom logging import threading",
    """
def column_norm(A, k):
    v = torch.ones(A.shape[0], 1, dtype=A.dtype)  # (d, 1)
    for _ in range(k):
        w = A @ v
        v = w / torch.linalg.norm(w, ord=2)  # the matrix 2-norm of a column: its length
    return (v.T @ A @ v).squeeze()

def numpy_column_norm(A):
    return float(np.linalg.norm(np.ones((A.shape[0], 1)), 2))

def sklearn_svd(A):
    from sklearn.utils.extmath import randomized_svd
    return float(randomized_svd(A.numpy(), 1, random_state=0)[1][0])

def attrgetter_route(A):
    return operator.attrgetter("linalg.eigvalsh")(torch)(A)[-1]

def resolve_route(A):
    return pkgutil.resolve_name("numpy.linalg:eigvalsh")(A.numpy())[-1]

def thread_route(A):
    out = {}
    worker = threading.Thread(target=lambda: out.update(v=torch.linalg.eigvalsh(A)[-1]))
    worker.start()
    worker.join()
    return out["v"]

def replaces_trap(A):
    np.linalg._umath_linalg.eigh_lo = len
    return 1.0

def leaks(A):
    raise ValueError(repr(A.tolist()))
""",
    "%%writefile helper.py\ndef triple(x):\n    return 3 * x\n",
    "%run helper.py\ndisplay(triple(2))",
    "import time\ndef defined_before(x):\n    return x\nwhile True:\n    time.sleep(0.1)\n"
    "def defined_after(x):\n    return -x\nnot_a_definition = 1",
    "def slow_cell_function(x):\n    return x\nwhile True:\n    pass",
]
ROUTE_FUNCTIONS = (
    "column_norm", "numpy_column_norm", "sklearn_svd", "attrgetter_route", "resolve_route",
    "thread_route", "replaces_trap", "leaks", "triple", "defined_before", "defined_after",
)  # fmt: skip


@pytest.fixture(scope="module")
def routes():
    cells = [neutralise_ipython(c) for c in ROUTES]
    problemset = types.SimpleNamespace(
        FUNCTIONS=ROUTE_FUNCTIONS, FORBIDDEN={"*": ("spectral",)}
    )  # fmt: skip
    with SandboxStudent(cells, problemset, analyze(cells, ROUTE_FUNCTIONS), cell_timeout=3) as s:
        yield s


def test_matrix_norms_of_a_column_are_vector_norms(routes) -> None:
    A = torch.diag(torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64))
    assert abs(routes.call("column_norm", A, 60).item() - 3.0) < 1e-9
    assert abs(routes.call("numpy_column_norm", A) - 3**0.5) < 1e-12
    assert routes.shortcuts("column_norm") == routes.shortcuts("numpy_column_norm") == []


@pytest.mark.parametrize(
    ("function", "seen"),
    [
        ("sklearn_svd", "scipy.linalg.svd"),  # the notebook never spells "scipy"
        ("attrgetter_route", "torch.linalg.eigvalsh"),
        ("resolve_route", "numpy.linalg.eigvalsh"),
    ],
)
def test_no_library_or_lookup_route_escapes_the_traps(routes, function: str, seen: str) -> None:
    with pytest.raises(ShortcutError, match=seen.replace(".", r"\.")):
        routes.call(function, torch.eye(3, dtype=torch.float64), timeout=60)  # sklearn loads


def test_threads_fail_with_a_clear_message(routes) -> None:
    with pytest.raises(StudentError, match="starting a thread is not possible while grading"):
        routes.call("thread_route", torch.eye(3, dtype=torch.float64))
    assert "thread_route calls torch.linalg.eigvalsh" in routes.review(["thread_route"])


def test_a_replaced_trap_is_proof(routes) -> None:
    with pytest.raises(ShortcutError, match="replaced numpy.linalg._umath_linalg.eigh_lo"):
        routes.call("replaces_trap", torch.eye(2))
    assert routes.call("numpy_column_norm", torch.eye(2)) == 2**0.5  # a fresh, intact sandbox


def test_exception_text_cannot_carry_hidden_inputs(routes) -> None:
    A = torch.arange(36.0, dtype=torch.float64).reshape(6, 6)
    with pytest.raises(StudentError) as raised:
        routes.call("leaks", A)
    assert "35.0" not in str(raised.value) and "…" in str(raised.value)


def test_the_sandbox_is_fair_to_notebook_habits(routes) -> None:
    assert routes.call("triple", 2) == 6  # %%writefile + %run
    assert routes.call("defined_before", 1) == 1  # kept: before the slow statement
    assert routes.call("defined_after", 1) == -1  # kept: a definition after it
    assert not routes.has_function("not_a_definition")
    errors = routes.cell_errors
    slow = "cell 5 did not finish within 3 s (line 4 was still running); the definitions in it"
    assert f"{slow} were kept" in errors


def test_a_missing_function_says_why() -> None:
    cells = ["x = 1", "import time\ntime.sleep(60)\ndef late(x):\n    return x"]
    problemset = types.SimpleNamespace(FUNCTIONS=("late",), FORBIDDEN={})
    with SandboxStudent(cells, problemset, StaticReport(), cell_timeout=2) as student:
        assert student.call("late", 1) == 1  # a definition after the slow statement is kept
    cells = ["def other():\n    pass", "import time\nlate = (time.sleep(60), 1)"]
    with SandboxStudent(cells, problemset, StaticReport(), cell_timeout=2) as student:
        with pytest.raises(StudentError, match="late is not defined: cell 2 did not finish"):
            student.call("late", 1)


ESCAPE = """
import os, socket
def escape(course_file, port):
    results = {"uid": os.getuid(), "pid": os.getpid(), "course": os.path.exists(course_file)}
    for name, path in (("system", "/usr/coursekit-escape"), ("home", "./kept.txt")):
        try:
            open(path, "w").close()
            results[name] = "written"
        except OSError as exc:
            results[name] = type(exc).__name__
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        results["net"] = "reached"
    except OSError as exc:
        results["net"] = type(exc).__name__
    return results
"""


def _one_function_student(source: str, name: str) -> SandboxStudent:
    problemset = types.SimpleNamespace(FUNCTIONS=(name, "alive"), FORBIDDEN={})
    cells = [source, "def alive():\n    return 1.0"]
    return SandboxStudent(cells, problemset, StaticReport())


def test_sandbox_runs_inside_bubblewrap() -> None:
    """No course, no network, a read-only system, its own pids and a non-root user: even code
    that static analysis would not flag meets the sandbox itself."""
    import socket

    from coursekit import jail

    jail.check()  # fails (not skips) where bubblewrap is missing: grading needs it
    course_file = str(Path(__file__).resolve().parents[2] / "nbgrader_config.py")
    listener = socket.create_server(("127.0.0.1", 0))
    with _one_function_student(ESCAPE, "escape") as jailed:
        seen = jailed.call("escape", course_file, listener.getsockname()[1])
        assert jailed._sandbox is not None and "bubblewrap" in jailed._sandbox.jail
        assert "seccomp" in jailed._sandbox.jail
    listener.close()
    assert seen["course"] is False and seen["net"] != "reached"
    assert seen["system"] in ("OSError", "PermissionError", "FileNotFoundError")
    assert seen["home"] == "written"  # its own working folder stays writable
    assert seen["uid"] == 65534 and seen["pid"] < 100


NEW_TASKS = {
    "threading": "import threading\ndef go():\n    threading.Thread(target=print).start()",
    "logging_threading": "from logging import threading\n"
    "def go():\n    threading.Thread(target=print).start()",
    "_thread": "import _thread\ndef go():\n    _thread.start_new_thread(print, ())",
    "posix_fork": "import posix\ndef go():\n    posix.fork()",
    "multiprocessing": "import multiprocessing\n"
    "def go():\n    multiprocessing.Process(target=print).start()",
    "subprocess": "import subprocess\ndef go():\n    subprocess.run(['true'])",
}
BELOW_PYTHON = """
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
callback = CALLBACK(lambda arg: None)

def go():
    thread = ctypes.c_ulong()
    made = libc.pthread_create(ctypes.byref(thread), None, callback, None)
    forked = libc.fork()
    fork_errno = ctypes.get_errno()
    argv = (ctypes.c_char_p * 2)(b"/bin/true", None)
    executed = libc.execv(b"/bin/true", argv)
    return [made, forked, fork_errno, executed, ctypes.get_errno(), errno.EPERM]
"""


@pytest.mark.parametrize("route", sorted(NEW_TASKS))
def test_threads_and_processes_fail_with_a_message(route: str) -> None:
    with _one_function_student(NEW_TASKS[route], "go") as student:
        with pytest.raises(StudentError) as raised:
            student.call("go")
        assert student.call("alive") == 1.0  # the grader is still there
    message = str(raised.value)
    assert message.startswith("go raised ")
    assert any(word in message for word in ("thread", "not permitted", "disabled")), message


def test_seccomp_refuses_threads_fork_and_exec_below_python() -> None:
    """ctypes goes past every Python-level trap: the seccomp filter still refuses."""
    with _one_function_student(BELOW_PYTHON, "go") as student:
        made, forked, fork_errno, executed, exec_errno, eperm = student.call("go")
        assert student.call("alive") == 1.0
    assert made == eperm  # pthread_create returns the error number
    assert (forked, fork_errno) == (-1, eperm)
    assert (executed, exec_errno) == (-1, eperm)


NUMERICS = """
import numpy, scipy.linalg, torch
from sklearn.linear_model import LogisticRegression

def numerics(A, X, y):
    B = A @ A.T + 4 * torch.eye(A.shape[0], dtype=A.dtype)
    w = A.clone().requires_grad_(True)
    ((w @ w.T).sin().sum()).backward()
    Z = numpy.asarray(B)
    return (
        B,
        torch.linalg.solve(B, torch.ones(B.shape[0], dtype=B.dtype)),
        torch.linalg.cholesky(B),
        torch.linalg.qr(A).R.abs(),
        w.grad,
        torch.from_numpy(numpy.linalg.inv(Z)),
        torch.from_numpy(scipy.linalg.lu_solve(scipy.linalg.lu_factor(Z), numpy.ones(len(Z)))),
        float(LogisticRegression(max_iter=200).fit(X, y).score(X, y)),
    )
"""


def test_numerics_work_single_threaded_under_seccomp() -> None:
    A = torch.randn(40, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    X = torch.cat([A[:20] + 3, A[20:] - 3]).numpy()
    y = numpy_labels = [0] * 20 + [1] * 20
    with _one_function_student(NUMERICS, "numerics") as student:
        got = student.call("numerics", A, X, numpy_labels)
    B = A @ A.T + 4 * torch.eye(40, dtype=A.dtype)
    w = A.clone().requires_grad_(True)
    ((w @ w.T).sin().sum()).backward()
    expected = [
        B,
        torch.linalg.solve(B, torch.ones(40, dtype=B.dtype)),
        torch.linalg.cholesky(B),
        torch.linalg.qr(A).R.abs(),
        w.grad,
        torch.linalg.inv(B),
        torch.linalg.solve(B, torch.ones(40, dtype=B.dtype)),
    ]
    for value, oracle in zip(got[:-1], expected, strict=True):
        torch.testing.assert_close(value, oracle, rtol=1e-8, atol=1e-8)
    assert got[-1] == 1.0 and len(y) == 40  # two separated clusters


FORGE = """
import json, os, struct, sys

def forge(steal):
    frame = sys._getframe()
    while frame is not None and "resp_fd" not in frame.f_locals:
        frame = frame.f_back
    trusted = frame.f_locals
    seq, nonce = (trusted.get("seq"), trusted.get("nonce")) if steal else (1, "0" * 32)
    reply = {"ok": True, "value": {"kind": "float", "value": "1e9"}, "seq": seq, "nonce": nonce}
    data = json.dumps(reply).encode()
    os.write(trusted["resp_fd"], struct.pack(">Q", len(data)) + data)
    return 0.0
"""
CELL = {"op": "exec", "index": 0, "filename": "<cell 1>", "stmt": None}


def test_a_reply_without_the_nonce_is_a_forgery() -> None:
    from coursekit.verdicts.sandbox import Sandbox, SandboxCrashed, SandboxForged

    assert issubclass(SandboxForged, SandboxCrashed)
    with Sandbox() as box:
        assert "error" not in box.request({**CELL, "source": FORGE}, timeout=30)
        call = {"op": "call", "name": "forge", "args": (False,), "kwargs": {}}
        with pytest.raises(SandboxForged, match="sequence and nonce"):
            box.request(call, timeout=30)
        assert not box.alive  # killed: nothing more is read from it


def test_a_stolen_nonce_is_caught_by_the_extra_reply() -> None:
    """Even a student who reads the nonce out of the trusted loop's frame cannot make the parent
    accept a value: the child's own reply follows, and the parent finds it left in the pipe (at
    once, or at the next request)."""
    from coursekit.verdicts.sandbox import Sandbox, SandboxForged

    with Sandbox() as box:
        box.request({**CELL, "source": FORGE}, timeout=30)
        call = {"op": "call", "name": "forge", "args": (True,), "kwargs": {}}
        with pytest.raises(SandboxForged):
            box.request(call, timeout=30)
            box.request({"op": "defined", "names": ["forge"]}, timeout=30)
        assert not box.alive


def test_replies_echo_their_request() -> None:
    from coursekit.verdicts.sandbox import Sandbox

    with Sandbox() as box:
        for _ in range(3):
            reply = box.request({"op": "defined", "names": ["x"]}, timeout=30)
            assert reply == {"ok": True, "defined": {"x": False}}  # seq and nonce checked, removed
        assert box._seq == 3


def test_static_suspicion_is_graded_on_numbers_and_sent_for_review() -> None:
    """A zero needs proof: what static analysis suspects, the runtime did not see, so the part
    gets its points and the verdict carries review evidence."""

    def right(student):
        assert student.call("f", torch.eye(2)) == 1.0

    problemset = types.SimpleNamespace(
        FUNCTIONS=("f",),
        FORBIDDEN={"f": ("spectral",)},
        CHECKS=[Check("a", 2, "a", right)],
    )
    cells = [
        "import ctypes, torch\n"
        "def f(A):\n    if A.sum() < 0:\n        return torch.linalg.eigvalsh(A)[-1]\n"
        "    return 1.0"
    ]
    (verdict,) = grade_cells(cells, problemset)
    assert (verdict.score, verdict.message) == (2.0, "passed: a")
    assert "f calls torch.linalg.eigvalsh, which did not run while grading" in verdict.review
    assert "imports ctypes" in verdict.review


def test_a_shortcut_seen_at_runtime_costs_the_part_without_review() -> None:
    def check(student):
        student.call("f", torch.eye(2, dtype=torch.float64))

    problemset = types.SimpleNamespace(
        FUNCTIONS=("f",), FORBIDDEN={"f": ("spectral",)}, CHECKS=[Check("a", 2, "a", check)]
    )
    cells = ["import torch\nspectrum = torch.linalg.eigvalsh\ndef f(A):\n    return spectrum(A)"]
    (verdict,) = grade_cells(cells, problemset)
    assert verdict.score == 0.0 and verdict.review == ""
    assert "calls torch.linalg.eigvalsh" in verdict.message


def test_feedback_text_from_the_student_is_short_and_carries_no_numbers() -> None:
    from coursekit.verdicts.sandbox import student_text

    secret = repr(torch.arange(40.0).reshape(5, 8).tolist())
    text = student_text(f"ValueError: {secret} and 1, 2, 3")
    assert "…" in text and "7.0" not in text and text.endswith("1, 2, 3")
    assert len(student_text("x" * 1000)) == 160


def test_grading_failure_partial_credit() -> None:
    def half(student):
        raise GradingFailure("half right", score_fraction=0.5)

    def good(student):
        assert student.call("f") == 1

    problemset = types.SimpleNamespace(
        FUNCTIONS=("f",), FORBIDDEN={}, CHECKS=[Check("a", 2, "a", half), Check("b", 1, "b", good)]
    )
    verdicts = grade_cells(["def f():\n    return 1"], problemset)
    assert [(v.score, v.message) for v in verdicts] == [(1.0, "half right"), (1.0, "passed: b")]
    with pytest.raises(ValueError):
        GradingFailure("x", score_fraction=1.0)


# ----------------------------------------------------------------------------- contract


def test_load_rejects_unknown_sets_and_broken_modules() -> None:
    from coursekit.problemsets import _check_contract, _derive_from_rules, load

    with pytest.raises(ValueError, match="No grader module"):
        load("ps9_does_not_exist")
    ps1 = load("ps1_power_method")  # the contract's names come from the set's RULES
    assert (ps1.ASSIGNMENT_ID, ps1.FUNCTIONS) == ("ps1_power_method", ps1.RULES.functions)
    assert ps1.FORBIDDEN == ps1.RULES.forbidden
    stray = types.ModuleType("stray")  # a set that imports another set's rules
    stray.RULES, stray.CHECKS = ps1.RULES, []
    _derive_from_rules(stray)
    with pytest.raises(ValueError, match="ASSIGNMENT_ID must be 'ch01_tensors'"):
        _check_contract(stray, "ch01_tensors")
    broken = types.SimpleNamespace(
        __name__="broken",
        ASSIGNMENT_ID="x",
        FUNCTIONS=("f",),
        FORBIDDEN={"f": ("magic",)},
        CHECKS=[],
    )
    with pytest.raises(ValueError, match="unknown families"):
        _check_contract(broken, "x")


# ----------------------------------------------------------------------------- review plumbing


def test_review_notes_become_a_review_row_in_the_report(tmp_path: Path) -> None:
    """A [review] note in a graded cell's outputs (written by TrustedVerdicts) gives the row
    status "review" with the evidence as its reason, and report.html lists it to review."""
    import json

    from coursekit.batch import reasons
    from coursekit.report import write_report
    from coursekit.verdicts.checks import Verdict
    from coursekit.verdicts.nbgrader_glue import REVIEW_MARKER, TrustedVerdicts

    verdict = Verdict("p1", 2.0, 2.0, "passed: p1", "f calls torch.linalg.eigh")
    outputs = TrustedVerdicts()._outputs(verdict)
    assert outputs[-1]["text"].startswith(REVIEW_MARKER)
    assert "does not lower it" in outputs[-1]["text"]  # student-facing, not accusing
    cell = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "p1"}}, "outputs": outputs}
    notebook = tmp_path / "autograded.ipynb"
    notebook.write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    findings = reasons.notebook_findings(notebook, timeout=30)
    status, reason = reasons.summarize(findings, graded=True)
    assert status == "review"
    assert reason == "review cell 1 (p1): f calls torch.linalg.eigh"
    assert reasons.summarize([], graded=True) == ("ok", "")
    row = {"student": "ada", "scores": {"p1": 2.0}, "status": status, "reason": reason,
           "seconds": 1.0}  # fmt: skip
    csv_path, html_path = write_report(tmp_path / "report", "ps", [row], {"p1": 2.0})
    assert "review,review cell 1 (p1): f calls torch.linalg.eigh" in csv_path.read_text()
    page = html_path.read_text()
    to_review = page.split("<h2>To review</h2>", 1)[1].split("<h2>", 1)[0]
    assert "ada" in to_review and "torch.linalg.eigh" in to_review


VALUE_CLASS = """
class Box:
    def __init__(self, x):
        self.x = x
    def doubled(self):
        return Box(self.x @ self.x.T)
"""


def _drive_box(Box, x):  # a grader's driver: builds the student's object, returns plain values
    import torch

    return Box(x).doubled().x, torch.is_grad_enabled()


def test_a_driver_exercises_a_graded_class_observed_and_attributed() -> None:
    problemset = types.SimpleNamespace(FUNCTIONS=("Box",), FORBIDDEN={"Box": ("matmul",)})
    cells = [VALUE_CLASS]
    with SandboxStudent(cells, problemset, StaticReport()) as student:
        x = torch.ones(2, 3)
        value, grad_enabled = student.call("Box", x, driver=_drive_box, allow_shortcuts=True)
        assert torch.equal(value, torch.full((2, 2), 3.0)) and grad_enabled is True
        assert ("matmul", "calls torch.Tensor.matmul") in student.findings("Box")
        with pytest.raises(ShortcutError, match="Box calls torch.Tensor.matmul"):
            student.call("Box", x, driver=_drive_box)


OPTIMISER = """
import torch

def fit(w0):
    w = w0.clone().requires_grad_(True)
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(4):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
        schedule.step()
    return w.detach()
"""


@pytest.mark.parametrize("banned", [False, True])
def test_torch_optim_is_observed_not_mistaken_for_tampering(banned: bool) -> None:
    """torch wraps an optimiser's step on first use; that is not the student tampering."""
    problemset = types.SimpleNamespace(
        FUNCTIONS=("fit",), FORBIDDEN={"fit": ("optim",)} if banned else {}
    )
    with SandboxStudent([OPTIMISER], problemset, StaticReport()) as student:
        if banned:
            with pytest.raises(ShortcutError, match="torch.optim.SGD.step"):
                student.call("fit", torch.ones(3))
        else:
            assert student.call("fit", torch.ones(3)).abs().max() < 1.0
            assert ("optim", "calls torch.optim.SGD.step") in student.findings("fit")


def test_a_zygote_without_torch_dynamo_grades_an_optimiser_the_same(monkeypatch) -> None:
    """A grading worker whose assignment never calls torch.optim starts the verdicts' zygote
    without torch._dynamo (about 2 s of CPU per worker); a student who uses an optimiser all the
    same is graded as before: the child imports it inside the call."""
    from coursekit.verdicts import sandbox

    for value, chosen in (("", []), ("torch._dynamo,os", ["torch._dynamo"])):
        monkeypatch.setenv(sandbox.PRELOAD_VARIABLE, value)
        assert sandbox.zygote_preload() == chosen
    monkeypatch.delenv(sandbox.PRELOAD_VARIABLE)
    assert sandbox.zygote_preload() == ["torch._dynamo"]  # no choice made: everything

    monkeypatch.setenv(sandbox.PRELOAD_VARIABLE, "")
    previous, sandbox._Zygote._instance = sandbox._Zygote._instance, None
    try:
        problemset = types.SimpleNamespace(FUNCTIONS=("fit",), FORBIDDEN={})
        with SandboxStudent([OPTIMISER], problemset, StaticReport()) as student:
            assert student.call("fit", torch.ones(3)).abs().max() < 1.0
            assert ("optim", "calls torch.optim.SGD.step") in student.findings("fit")
            zygote = sandbox._Zygote._instance
            assert zygote is not None, "the sandbox started without its zygote"
            assert "--zygote" in zygote.process.args
            assert "torch._dynamo" not in zygote.process.args
    finally:
        if sandbox._Zygote._instance is not None:
            sandbox._Zygote._instance.close()
        sandbox._Zygote._instance = previous
