"""The trusted side of the sandbox: start the child, send requests, rebuild plain replies.

``Sandbox`` is one child process (``coursekit.verdicts.sandbox_child``). ``SandboxStudent`` is the
``checks.Student`` the problem-set checks use: it executes the student's cells in a sandbox,
restarts it if a call timed out or killed it (skipping any cell that hangs or kills it), and turns
every reply into plain data or a readable ``StudentError`` / ``ShortcutError``.

The parent only ever reads JSON from the child (``json.loads``) and rebuilds tensors itself, so
nothing the student constructs reaches the grader.
"""

from __future__ import annotations

import ast
import atexit
import functools
import importlib.util
import inspect
import json
import os
import pickle
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Container, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from coursekit import jail
from coursekit.verdicts.checks import ShortcutError, StudentError, StudentTimeout
from coursekit.verdicts.shortcuts import ALWAYS, FAMILIES
from coursekit.verdicts.static import StaticReport

__all__ = [
    "Sandbox",
    "SandboxCrashed",
    "SandboxForged",
    "SandboxStudent",
    "SandboxTimeout",
    "decode",
]

MAX_REPLY = 64 * 1024**2
AFTER_TIMEOUT = 4.0  # seconds the rest of a submission may still take once its code timed out
ZYGOTE_PIDS = 128  # the zygote's cgroup: it and its children (single-threaded under seccomp)
ZYGOTE_MEMORY = 4 * 1024**3  # each child also has RLIMIT_AS 3 GiB
# What the zygote imports beyond torch, NumPy and SciPy only where the graded code is expected
# to call for it: a worker of ``course grade`` names the modules its assignment's source calls
# for (``coursekit.batch.zygote.preload_for`` with this table) in ``PRELOAD_VARIABLE``; without
# the variable (plain nbgrader, a student's own check) the zygote imports all of them. Code that
# needs one the zygote left out imports it itself, once, inside its call's time limit.
PRELOAD_IF_USED = {
    "torch.optim": "torch._dynamo",  # an optimizer's constructor imports it
    "torch.func": "torch._dynamo",
    "torch.compile": "torch._dynamo",
}
PRELOAD_VARIABLE = "COURSEKIT_SANDBOX_PRELOAD"


class SandboxCrashed(Exception):
    """The child process died or broke the protocol."""


class SandboxForged(SandboxCrashed):
    """A reply that the child's trusted loop did not send: proof of tampering.

    Every request carries a sequence number and a fresh random nonce that the child's trusted
    loop removes before student code runs and echoes in its reply. A reply with the wrong
    sequence number or nonce (written by student code to the reply pipe, or a copy of an earlier
    reply), or bytes left in the pipe after a reply, raises this. The sandbox has been killed.
    It is a ``SandboxCrashed``, so code that only handles crashes still stops; catch it first
    to score the part 0 as tampering.
    """


class SandboxTimeout(Exception):
    """The child did not answer in time (it has been killed)."""


def _child_env(home: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "LC_ALL": "C.UTF-8",
    }
    if jail.unsafe():
        env[jail.UNSAFE_VARIABLE] = "1"
    return env


@functools.cache
def _child_sources() -> list[str]:
    """The files the child imports from coursekit (``sandbox_child`` and what it imports, found
    by reading their imports), bound read-only into its sandbox: nothing else of the course."""
    todo, seen = ["coursekit.verdicts.sandbox_child"], set()
    while todo:
        name = todo.pop()
        if name != "coursekit" and not name.startswith("coursekit."):
            continue
        parts = name.split(".")
        for parent in (".".join(parts[:i]) for i in range(1, len(parts) + 1)):
            if parent in seen:
                continue
            seen.add(parent)
            spec = importlib.util.find_spec(parent)
            if spec is None or spec.origin is None:
                continue
            tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    todo.append(node.module)
                elif isinstance(node, ast.Import):
                    todo += [alias.name for alias in node.names]
    return sorted(str(importlib.util.find_spec(n).origin) for n in seen)  # type: ignore[union-attr]


_launchers: dict[int, ThreadPoolExecutor] = {}


def _start(command: list[str], **popen: Any) -> subprocess.Popen:
    """``Popen`` from a thread that lives as long as this process: bwrap's --die-with-parent
    follows the thread that started it, and grading threads come and go."""
    pid = os.getpid()
    if pid not in _launchers:  # one per process: a forked worker has no threads of its parent
        _launchers[pid] = ThreadPoolExecutor(1, thread_name_prefix="coursekit-sandbox-launcher")
    return _launchers[pid].submit(subprocess.Popen, command, **popen).result()


def _confined(argv: list[str], workdir: str, cgroup: jail.Cgroup | None) -> list[str]:
    """``argv`` inside bubblewrap (fail closed: ``jail.check`` first), in ``cgroup``; or as it is
    with ``--unsafe-no-sandbox``."""
    if jail.unsafe():
        return argv
    jail.check()
    command = jail.bwrap_command(argv, readable=_child_sources(), cwd=workdir)
    return cgroup.wrap(command) if cgroup is not None else command


def _child_command(*args: str) -> list[str]:
    return [sys.executable, "-s", "-P", "-m", "coursekit.verdicts.sandbox_child", *args]


def zygote_preload() -> list[str]:
    """The optional modules the zygote imports (``PRELOAD_VARIABLE``, or all of them)."""
    known = sorted(set(PRELOAD_IF_USED.values()))
    chosen = os.environ.get(PRELOAD_VARIABLE)
    return known if chosen is None else [name for name in chosen.split(",") if name in known]


class _Zygote:
    """A trusted process that has imported torch once and forks one sandbox child per request.

    It never runs student code. It runs inside the bubblewrap sandbox (and a cgroup), so its
    children's pids are those of its PID namespace: ``spawn`` translates them.
    Set COURSEKIT_NO_ZYGOTE=1 to start every sandbox from scratch.
    """

    _instance: _Zygote | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="coursekit-zygote-")
        self.cgroup = None if jail.unsafe() else jail.Cgroup.create(ZYGOTE_PIDS, ZYGOTE_MEMORY)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._stderr = open(os.path.join(self.workdir, "stderr.txt"), "wb")  # noqa: SIM115
        self.process = _start(
            _confined(
                _child_command("--zygote", str(theirs.fileno()), *zygote_preload()),
                self.workdir,
                self.cgroup,
            ),
            cwd=self.workdir,
            env=_child_env(self.workdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.sock.settimeout(120.0)
        self._reader = self.sock.makefile("rb")
        if self._reader.readline().strip() != b"ready":
            raise SandboxCrashed("the sandbox zygote did not start")
        self.member = None if jail.unsafe() else (jail.child_pids(self.process.pid) or [None])[0]
        atexit.register(self.close)

    @classmethod
    def get(cls) -> _Zygote | None:
        if os.environ.get("COURSEKIT_NO_ZYGOTE"):
            return None
        with cls._lock:
            if cls._instance is None or cls._instance.process.poll() is not None:
                try:
                    cls._instance = cls()
                except (OSError, SandboxCrashed):
                    cls._instance = None
            return cls._instance

    def spawn(self, req_r: int, resp_w: int, cwd: str) -> int:
        """Fork a child working in ``cwd``; its pid, as we see it."""
        with self._lock:
            message = json.dumps({"cwd": cwd}).encode("utf-8")
            socket.send_fds(self.sock, [message], [req_r, resp_w])
            line = self._reader.readline().strip()
        if not line.isdigit():
            raise SandboxCrashed("the sandbox zygote did not fork")
        if self.member is None:
            return int(line)
        pid = jail.outer_pid(self.member, int(line))
        if pid is None:
            raise SandboxCrashed("the sandbox child ended before it started")
        return pid

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
        self.sock.close()
        self._stderr.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Sandbox:
    """One sandbox child process. Use as a context manager, or call ``close``.

    Raises ``jail.SandboxUnavailable`` if the bubblewrap sandbox cannot be made (unless
    ``--unsafe-no-sandbox``: ``COURSEKIT_UNSAFE_NO_SANDBOX=1``).
    """

    def __init__(self, start_timeout: float = 90.0) -> None:
        if not jail.unsafe():
            jail.check()  # fail closed, before anything starts
        zygote = _Zygote.get()
        inside = zygote.workdir if zygote is not None else None  # the folder bound into its jail
        self.workdir = tempfile.mkdtemp(prefix="coursekit-sandbox-", dir=inside)
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        self.process: subprocess.Popen | None = None
        self.cgroup: jail.Cgroup | None = None
        self._stderr = None
        self._seq = 0
        try:
            if zygote is not None:
                self.pid = zygote.spawn(req_r, resp_w, self.workdir)
            else:
                self._stderr = open(os.path.join(self.workdir, "stderr.txt"), "wb")  # noqa: SIM115
                if not jail.unsafe():
                    self.cgroup = jail.Cgroup.create(ZYGOTE_PIDS, ZYGOTE_MEMORY)
                argv = _child_command(str(req_r), str(resp_w))
                self.process = _start(
                    _confined(argv, self.workdir, self.cgroup),
                    cwd=self.workdir,
                    env=_child_env(self.workdir),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=self._stderr,
                    pass_fds=(req_r, resp_w),
                    start_new_session=True,
                )
                self.pid = self.process.pid
        finally:
            os.close(req_r)
            os.close(resp_w)
        os.set_blocking(self._req_w, False)
        try:
            reply = self._reply(0, None, time.monotonic() + start_timeout)
        except (SandboxTimeout, SandboxCrashed):
            self.close()
            raise
        if not reply.get("ready"):
            self.close()
            raise SandboxCrashed("the sandbox did not start")
        self.jail = str(reply.get("jail", ""))

    # -- wire ------------------------------------------------------------------------------
    def _send(self, message: dict, deadline: float) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        data = struct.pack(">Q", len(data)) + data
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxTimeout
            _, writable, _ = select.select([], [self._req_w], [], remaining)
            if writable:
                try:
                    view = view[os.write(self._req_w, view) :]
                except (BrokenPipeError, OSError) as exc:
                    raise SandboxCrashed("the sandbox stopped reading") from exc

    def _read(self, n: int, deadline: float) -> bytes:
        chunks, got = [], 0
        while got < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxTimeout
            readable, _, _ = select.select([self._resp_r], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(self._resp_r, min(n - got, 1 << 20))
            if not chunk:
                raise SandboxCrashed("the sandbox process died")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _receive(self, deadline: float) -> dict:
        (size,) = struct.unpack(">Q", self._read(8, deadline))
        if size > MAX_REPLY:
            raise SandboxCrashed("the sandbox sent a reply that is too large")
        try:
            reply = json.loads(self._read(size, deadline).decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SandboxCrashed("the sandbox sent an unreadable reply") from exc
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise SandboxCrashed("the sandbox sent an unexpected reply")
        return reply

    def _reply(self, seq: int, nonce: str | None, deadline: float) -> dict:
        """The reply to request ``seq``: it must echo ``seq`` and ``nonce`` and be the last
        thing in the pipe, else ``SandboxForged``."""
        reply = self._receive(deadline)
        if reply.pop("seq", None) != seq or reply.pop("nonce", None) != nonce:
            raise SandboxForged(f"a reply to request {seq} did not carry its sequence and nonce")
        if self._bytes_left():
            raise SandboxForged(f"bytes followed the reply to request {seq}")
        return reply

    def _bytes_left(self) -> bool:
        """Is there anything (not end of file) in the reply pipe? Read at most one byte."""
        readable, _, _ = select.select([self._resp_r], [], [], 0)
        return bool(readable) and os.read(self._resp_r, 1) != b""

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait for its reply. Kills the child on timeout, crash or
        forgery (``SandboxForged``)."""
        deadline = time.monotonic() + timeout
        self._seq += 1
        nonce = secrets.token_hex(16)
        try:
            self._send({**message, "seq": self._seq, "nonce": nonce}, deadline)
            return self._reply(self._seq, nonce, deadline)
        except (SandboxTimeout, SandboxCrashed):
            self.close()
            raise

    @property
    def alive(self) -> bool:
        if self._resp_r < 0:
            return False
        if self.process is not None:
            return self.process.poll() is None
        try:
            os.kill(self.pid, 0)  # forked children are reaped by the zygote: no zombies
        except ProcessLookupError:
            return False
        return True

    def close(self) -> None:
        if self._resp_r >= 0:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.process is not None:
            self.process.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        for fd in (self._req_w, self._resp_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._req_w = self._resp_r = -1
        if self._stderr is not None:
            self._stderr.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------- plain values

_DTYPES = {
    "torch.float16": "float16",
    "torch.bfloat16": "bfloat16",
    "torch.float32": "float32",
    "torch.float64": "float64",
    "torch.complex64": "complex64",
    "torch.complex128": "complex128",
    "torch.int8": "int8",
    "torch.int16": "int16",
    "torch.int32": "int32",
    "torch.int64": "int64",
    "torch.uint8": "uint8",
    "torch.bool": "bool",
}


def _float(text: Any) -> float:
    if isinstance(text, str):
        return float(text)
    if isinstance(text, bool) or not isinstance(text, (int, float)):
        raise SandboxCrashed("bad float in reply")
    return float(text)


def _tensor(value: dict) -> Any:
    import torch

    dtype = getattr(torch, _DTYPES[value["dtype"]])
    shape = [int(s) for s in value["shape"]]
    if "real" in value:
        data = torch.complex(
            torch.tensor(value["real"], dtype=torch.float64),
            torch.tensor(value["imag"], dtype=torch.float64),
        )
        tensor = data.to(dtype).reshape(shape)
    else:
        tensor = torch.tensor(value["data"], dtype=dtype).reshape(shape)
    if value.get("requires_grad") and tensor.is_floating_point():
        tensor.requires_grad_(True)
    if "grad" in value:
        tensor.grad = _tensor(value["grad"])
    return tensor


def decode(value: dict) -> Any:
    """Rebuild a plain value encoded by the child (see ``sandbox_child.encode``)."""
    kind = value["kind"]
    if kind == "none":
        return None
    if kind == "bool":
        return value["value"] is True
    if kind == "int":
        return int(value["value"])
    if kind == "float":
        return _float(value["value"])
    if kind == "complex":
        return complex(_float(value["real"]), _float(value["imag"]))
    if kind == "str":
        return str(value["value"])
    if kind == "tensor":
        return _tensor(value)
    if kind == "ndarray":
        import numpy

        if "real" in value:
            array = numpy.array(value["real"]) + 1j * numpy.array(value["imag"])
        else:
            array = numpy.array(value["data"])
        return array.astype(numpy.dtype(value["dtype"])).reshape(value["shape"])
    if kind == "tuple":
        return tuple(decode(v) for v in value["items"])
    if kind == "list":
        return [decode(v) for v in value["items"]]
    if kind == "dict":
        return {str(k): decode(v) for k, v in value["items"]}
    raise SandboxCrashed(f"unknown kind {kind!r} in reply")


# ----------------------------------------------------------------------------- the student

STUDENT_TEXT = 160  # characters of student-controlled text (exception messages) in feedback
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_RUN = re.compile(rf"{_NUMBER}(?:[\s,;:\[\]()]+{_NUMBER}){{3,}}")


def student_text(text: str, limit: int = STUDENT_TEXT) -> str:
    """Student-controlled text made safe for feedback: runs of more than three numbers become
    "…" (an exception message cannot carry a hidden input out), and it is cut to ``limit``."""
    text = _NUMBER_RUN.sub("…", str(text))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class _Statement:
    """One top-level statement of a cell: its index, first line, and whether it only defines."""

    index: int | None  # None: the whole cell (it does not parse; the child reports why)
    line: int
    definition: bool


def _statements(source: str) -> list[_Statement]:
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return [_Statement(None, 1, False)]
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    return [_Statement(i, node.lineno, isinstance(node, kinds)) for i, node in enumerate(body)]


def _defining_cell(cells: Sequence[str], function: str) -> int | None:
    """Index of the last cell that defines ``function`` at top level (by ``def`` or ``=``)."""
    found = None
    for index, source in enumerate(cells):
        try:
            body = ast.parse(source).body
        except (SyntaxError, ValueError):
            continue
        for node in body:
            names = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else []
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if function in names:
                found = index
    return found


class SandboxStudent:
    """``checks.Student`` backed by one sandbox process (restarted only when needed).

    A part loses points for a forbidden routine only when the runtime traps saw it run during a
    call of that function (``ShortcutError``); static findings become review evidence
    (``review``). Cells run one top-level statement at a time, as a kernel would, so a slow
    experiment after a ``def`` does not lose the function: a statement that takes longer than
    what is left of the cell's ``cell_timeout`` (or kills the process) is skipped from then on,
    and the cell's definitions after it still run.

    With ``limit`` (the course's time limit per cell, nbgrader's ``Execute.timeout``, which
    ``course grade --timeout`` sets), a submission's code that does not finish costs that limit
    once: each cell and each call waits at most ``limit``; a function that timed out is not called
    again; and from the first time-out on, the submission's code has ``after_timeout`` seconds
    left in all (the restarts in between are not counted), for the other parts. A statement or
    call that this budget cuts short, or finds spent, is not graded, and its reason says that the
    submission's time ran out and what used it; a statement that finished in an earlier start
    still gets the time it took (twice, plus a second). ``kernel_timeouts`` holds the sources of
    cells on which nbgrader's kernel timed out (filled in while grading, as the kernel runs next
    to the sandbox): the kernel has shown that such a cell does not finish, so if the sandbox
    comes to it without having run it to the end before, the budget starts there. ``events``
    lists every wait on student code and how it ended (``op`` "exec" or "call", ``outcome``
    "ok", "error", "timeout", ...), every one that was skipped (``op`` "skip"), and the kernel's
    time-out (``op`` "kernel_timeout").

    Args:
        cells: The student's code cells, in notebook order (magics already neutralised).
        problemset: The problem-set module (for ``FORBIDDEN``).
        report: Static analysis of ``cells`` (``static.analyze``).
        cell_timeout: Seconds allowed per cell (without ``limit``).
        limit: The course's time limit in seconds; ``None`` keeps ``cell_timeout`` and each
            call's own timeout, with no budget.
        after_timeout: Seconds the submission still has after its first time-out (with ``limit``).
        kernel_timeouts: Sources of the cells the kernel timed out on (with ``limit``).
    """

    def __init__(
        self,
        cells: Sequence[str],
        problemset: ModuleType,
        report: StaticReport,
        cell_timeout: float = 30.0,
        limit: float | None = None,
        after_timeout: float = AFTER_TIMEOUT,
        kernel_timeouts: Container[str] = (),
    ) -> None:
        if limit is not None and not limit > 0:
            raise ValueError(f"limit must be a positive number of seconds, got {limit!r}")
        self.cells = list(cells)
        self.statements = [_statements(source) for source in self.cells]
        self.problemset = problemset
        self.report = report
        self.limit = limit
        self.cell_timeout = cell_timeout if limit is None else limit
        self.after_timeout = after_timeout
        self.kernel_timeouts = kernel_timeouts
        self._needs: dict[tuple[int, int | None], float] = {}  # statements that finished: seconds
        self.events: list[dict] = []  # every wait on student code, and every one skipped
        self._left: float | None = None  # the submission's seconds, from its first time-out on
        self._forgiven = False  # the sandbox's own first time-out: the limit, spent once
        self._ran: set[int] = set()  # cells run to their end (or their error) at least once
        self._spent = ""  # what timed out first: "cell 3 (line 5)" or "power_method"
        self._hung: dict[str, str] = {}  # functions that timed out -> why they are not called
        self.seed = 0
        self.starts = 0
        self._sandbox: Sandbox | None = None
        self._skip: dict[tuple[int, int | None], str] = {}  # statements that hung or crashed
        self._cell_errors: dict[int, str] = {}
        self._runtime: dict[str, list[tuple[str, str]]] = {}  # what the traps saw, per function
        self._defined: dict[str, bool] = {}
        self._called: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------
    def _boot(self) -> Sandbox:
        if self._sandbox is not None and self._sandbox.alive:
            return self._sandbox
        for _ in range(sum(len(s) for s in self.statements) + 2):
            self.starts += 1
            sandbox = Sandbox()
            try:
                self._cell_errors = {}
                for index in range(len(self.cells)):
                    self._run_cell(sandbox, index)
                names = list(self.problemset.FUNCTIONS)
                reply = sandbox.request({"op": "defined", "names": names}, timeout=30.0)
                self._defined = {n: bool(v) for n, v in reply["defined"].items()}
            except _CellKilled:
                sandbox.close()
                continue
            self._sandbox = sandbox
            return sandbox
        raise StudentError("the grader could not run your notebook's code (it kept crashing)")

    def _run_cell(self, sandbox: Sandbox, index: int) -> None:
        """Run a cell statement by statement; stop at its first error, as a kernel does."""
        deadline = time.monotonic() + self.cell_timeout
        slow = any(key[0] == index for key in self._skip)
        self._kernel_news(index)
        for statement in self.statements[index]:
            key = (index, statement.index)
            if key in self._skip:
                continue
            if slow and not statement.definition:
                continue  # after a statement that hung: keep the definitions only
            remaining = max(deadline - time.monotonic(), 1.0)
            left = self._time_left()
            if left is not None and left < remaining:
                # a def, class or import cannot loop; a statement that finished before, will
                need = 1.0 if statement.definition else self._needs.get(key, 0.0)
                if max(left, need) <= 0:
                    self._skip[key] = self._ran_out(f"cell {index + 1} (line {statement.line})")
                    self.events.append({"op": "skip", "cell": index, "stmt": statement.index,
                                        "reason": self._skip[key]})  # fmt: skip
                    continue
                remaining, cut = min(remaining, max(left, need)), True
            else:
                cut = False
            if not self._run_statement(sandbox, index, statement, remaining, cut):
                break
        self._ran.add(index)

    def _run_statement(
        self, sandbox: Sandbox, index: int, statement: _Statement, timeout: float, cut: bool
    ) -> bool:
        """Run one statement; False if the cell stops here (an error). ``cut``: ``timeout`` is
        what is left of the submission's time."""
        label = f"cell {index + 1}"
        request = {"op": "exec", "index": index, "source": self.cells[index],
                   "filename": f"<{label}>", "stmt": statement.index}  # fmt: skip
        where = f" (line {statement.line} was still running)" if statement.index is not None else ""
        kept = "; the definitions in it were kept" if len(self.statements[index]) > 1 else ""
        key = (index, statement.index)
        event = {"op": "exec", "cell": index, "stmt": statement.index, "timeout": timeout}
        self.events.append(event)
        start, counted = time.monotonic(), self._left is not None
        try:
            reply = sandbox.request(request, timeout=timeout)
        except SandboxTimeout:
            event["outcome"] = "timeout"
            self._spend(start, counted, timed_out=True)
            if cut:
                self._skip[key] = self._ran_out(f"cell {index + 1} (line {statement.line})")
            else:
                self._skip[key] = (
                    f"{label} did not finish within {self.cell_timeout:g} s{where}{kept}"
                )
                self._timed_out(f"cell {index + 1} (line {statement.line})")
            raise _CellKilled from None
        except SandboxCrashed:
            event["outcome"] = "crashed"
            self._spend(start, counted)
            self._skip[key] = f"{label} stopped the grading process{where}{kept}"
            raise _CellKilled from None
        self._spend(start, counted)
        if reply.get("tampered"):
            event["outcome"] = "tampered"
            text = student_text(str(reply["tampered"]))
            self._skip[key] = f"{label} {text}; the grader skipped that statement"
            raise _CellKilled
        if "error" in reply:
            event["outcome"] = "error"
            err = reply["error"]
            text = f"{label} raised {student_text(err['type'], 60)}: {student_text(err['message'])}"
            self._cell_errors[index] = text.rstrip(": ")
            return False
        event["outcome"] = "ok"
        self._needs[key] = 1.0 + 2 * (time.monotonic() - start)
        return True

    # -- the submission's time -------------------------------------------------------------
    def _time_left(self) -> float | None:
        """The submission's seconds left; None while nothing has timed out."""
        return self._left

    def _spend(self, start: float, counted: bool, timed_out: bool = False) -> None:
        """A wait on student code that began at ``start`` is over: take it off the submission's
        time if that was already running (the restarts between waits are the grader's time).
        The sandbox's first time-out is never taken off: it is the limit, spent once (when the
        kernel's time-out started the budget, the same loop has already cost the limit there)."""
        if timed_out and not self._forgiven:
            self._forgiven = True
            return
        if counted and self._left is not None:
            self._left -= time.monotonic() - start

    def _kernel_news(self, index: int) -> None:
        """Before cell ``index`` runs: if the kernel timed out on it, and the sandbox has never
        run it to the end (else the kernel was slow, not the cell), the budget starts now."""
        if self.limit is None or self._left is not None or index in self._ran:
            return
        if self.cells[index].strip() and self.cells[index] in self.kernel_timeouts:
            self.events.append({"op": "kernel_timeout", "cell": index})
            self._timed_out(f"cell {index + 1} (in the notebook's kernel)")

    def _timed_out(self, what: str) -> None:
        """``what`` used up its time: with ``limit``, the submission's budget starts now."""
        if self.limit is not None and self._left is None:
            self._left = self.after_timeout
            self._spent = what

    def _ran_out(self, what: str) -> str:
        """Why ``what`` was not run (to the end): one line, with what to do about it."""
        return (
            f"{what} was not graded because this submission's time ran out: {self._spent} did "
            f"not finish within the {self.limit:g} s time limit; make that loop finish and "
            "submit again"
        )

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> SandboxStudent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Student API -------------------------------------------------------------------
    @property
    def cell_errors(self) -> list[str]:
        self._boot()
        errors = dict(self._cell_errors)
        for (index, _), text in self._skip.items():
            errors.setdefault(index, text)
        return [errors[i] for i in sorted(errors)]

    def has_function(self, function: str) -> bool:
        self._boot()
        if function not in self._defined:
            reply = self._boot().request({"op": "defined", "names": [function]}, timeout=30.0)
            self._defined.update({n: bool(v) for n, v in reply["defined"].items()})
        return self._defined.get(function, False)

    def banned(self, function: str) -> tuple[str, ...]:
        from coursekit.problemsets import banned_families

        return tuple(dict.fromkeys(ALWAYS + banned_families(self.problemset, function)))

    def findings(self, function: str) -> list[tuple[str, str]]:
        """What the runtime traps saw during the calls of ``function`` so far (every family)."""
        return list(self._runtime.get(function, []))

    def shortcuts(self, function: str) -> list[str]:
        """Forbidden routines the runtime traps saw running during calls of ``function``."""
        banned = self.banned(function)
        return [text for family, text in self.findings(function) if family in banned]

    def take_called(self) -> list[str]:
        """The functions called since the last ``take_called`` (one check's worth)."""
        called, self._called = list(dict.fromkeys(self._called)), []
        return called

    def review(self, functions: Sequence[str]) -> str:
        """Evidence for a person about ``functions``: forbidden routines static analysis sees
        in them (or their helpers) that never ran while grading, and the notebook's constructs
        that could hide a routine from the traps. Empty when there is nothing to look at."""
        items = []
        for function in functions:
            banned = self.banned(function)
            seen = {family for family, _ in self._runtime.get(function, [])}
            for family, text in self.report.per_function.get(function, []):
                if family in banned and family not in seen:
                    items.append(f"{function} {text}, which did not run while grading")
        if functions:
            items += [f"the notebook {text}" for text in self.report.suspicious]
        items = list(dict.fromkeys(items))
        more = f"; and {len(items) - 4} more" if len(items) > 4 else ""
        return "; ".join(items[:4]) + more

    def call(
        self,
        function: str,
        *args: Any,
        timeout: float = 10.0,
        allow_shortcuts: bool = False,
        return_args: bool = False,
        driver: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        sandbox = self._boot()
        if not self.has_function(function):
            raise StudentError(self._missing(function))
        self._called.append(function)
        timeout, cut = self._call_timeout(function, timeout)
        request = {"op": "call", "name": function, "args": args, "kwargs": kwargs,
                   "return_args": return_args}  # fmt: skip
        if driver is not None:  # a module-level ``drive(target, *args)`` of the grader
            request["driver"] = textwrap.dedent(inspect.getsource(driver)).replace(
                f"def {driver.__name__}(", "def drive(", 1
            )
        reply = self._request_call(sandbox, function, request, timeout, cut)
        seen = [(str(family), str(text)) for family, text in reply.get("findings", [])]
        runtime = self._runtime.setdefault(function, [])
        runtime += [item for item in seen if item not in runtime]
        if not allow_shortcuts:
            self._raise_if_seen(function, seen)
        if "error" in reply:
            raise StudentError(_error_message(function, reply["error"]))
        if "unreadable" in reply:
            raise StudentError(
                f"{function} returned {student_text(reply['unreadable'])}; return plain values "
                "(a torch.Tensor, a Python float, or a tuple/list of them)"
            )
        value = decode(reply["value"])
        return (value, decode(reply["args"])) if return_args else value

    def _call_timeout(self, function: str, timeout: float) -> tuple[float, bool]:
        """The wait for one call of ``function``, and whether what is left of the submission's
        time cut it (with ``limit``). Raises ``StudentTimeout`` instead of waiting on a function
        that timed out before, or when the submission's time has run out."""
        if self.limit is None:
            return timeout, False
        if function in self._hung:
            self.events.append({"op": "skip", "function": function, "reason": self._hung[function]})
            raise StudentTimeout(self._hung[function])
        timeout = min(timeout, self.limit)
        left = self._time_left()
        if left is None or left >= timeout:
            return timeout, False
        if left <= 0:
            reason = self._ran_out(f"this call of {function}")
            self.events.append({"op": "skip", "function": function, "reason": reason})
            raise StudentTimeout(reason)
        return left, True

    def _request_call(
        self, sandbox: Sandbox, function: str, request: dict, timeout: float, cut: bool = False
    ) -> dict:
        event = {"op": "call", "function": function, "timeout": timeout, "outcome": "ok"}
        self.events.append(event)
        start, counted = time.monotonic(), self._left is not None
        try:
            reply = sandbox.request(request, timeout=timeout)
        except _forged_reply() as exc:
            event["outcome"] = "forged"
            self.close()
            self._runtime.setdefault(function, []).append(("tampering", "forged a reply"))
            raise ShortcutError(
                f"{function} wrote to the grader's private channel while it ran (a forged "
                "reply), so its result cannot be trusted and this part scores 0. Return your "
                "result from the function instead."
            ) from exc
        except SandboxTimeout:
            self._sandbox = None
            event["outcome"] = "timeout"
            self._spend(start, counted, timed_out=True)
            if cut:
                raise StudentTimeout(self._ran_out(f"this call of {function}")) from None
            if self.limit is None:
                raise StudentTimeout(f"{function} did not return within {timeout:g} s") from None
            self._timed_out(function)
            self._hung[function] = (
                f"{function} was not called: this submission's time ran out when {function} did "
                f"not return within {timeout:g} s on an earlier case; make its loops finish and "
                "submit again"
            )
            raise StudentTimeout(
                f"{function} did not return within {timeout:g} s; make its loops finish"
            ) from None
        except SandboxCrashed:
            event["outcome"] = "crashed"
            self._spend(start, counted)
            self._sandbox = None
            raise StudentError(
                f"{function} stopped the grading process while it ran (it crashed or exited)"
            ) from None
        self._spend(start, counted)
        if reply.get("tampered"):
            event["outcome"] = "tampered"
            self.close()
            text = student_text(str(reply["tampered"]))
            self._runtime.setdefault(function, []).append(("tampering", text))
            raise ShortcutError(
                f"{function} {text}, so the grader cannot trust its result and this part "
                "scores 0. Leave torch's modes and the libraries' routines as they are."
            )
        return reply

    def _raise_if_seen(self, function: str, seen: list[tuple[str, str]]) -> None:
        banned = self.banned(function)
        hits = [(family, text) for family, text in seen if family in banned]
        if hits:
            family = hits[0][0]
            texts = "; ".join(dict.fromkeys(student_text(text, 120) for _, text in hits[:3]))
            raise ShortcutError(
                f"{function} {texts} while grading. This exercise does not allow code that "
                f"{FAMILIES[family]}{_hint(self.problemset, family)}"
            )

    def _missing(self, function: str) -> str:
        message = f"{function} is not defined"
        cell = _defining_cell(self.cells, function)
        problems = {i: t for (i, _), t in self._skip.items()} | self._cell_errors
        if cell is not None and cell in problems:
            return f"{message}: {problems[cell]}, before it defined {function}"
        message += f": define it with `def {function}(...)` in the answer cell"
        errors = self.cell_errors
        return message + (f" (note: {errors[0]})" if errors else "")


def _error_message(function: str, err: dict) -> str:
    message = f"{function} raised {student_text(err.get('type', '?'), 60)}"
    if err.get("message"):
        message += f": {student_text(err['message'])}"
    if err.get("where"):
        message += f" (at {student_text(err['where'], 120)})"
    return message


def _forged_reply() -> tuple[type[BaseException], ...]:
    """The exception ``Sandbox`` raises for a reply that is not the child's own (when the wire
    checks replies), or nothing."""
    forged = globals().get("SandboxForged")
    return (forged,) if isinstance(forged, type) and issubclass(forged, BaseException) else ()


class _CellKilled(Exception):
    """A statement hung, killed the sandbox or changed its traps; it is now skipped."""


def _hint(problemset: ModuleType, family: str) -> str:
    hints = getattr(problemset, "SHORTCUT_HINTS", {})
    hint = hints.get(family)
    return f": {hint}" if hint else "."
