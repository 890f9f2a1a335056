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
import importlib.util
import json
import os
import pickle
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from coursekit import jail
from coursekit.verdicts.checks import ShortcutError, StudentError
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
ZYGOTE_PIDS = 128  # the zygote's cgroup: it and its children (single-threaded under seccomp)
ZYGOTE_MEMORY = 4 * 1024**3  # each child also has RLIMIT_AS 3 GiB


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
            _confined(_child_command("--zygote", str(theirs.fileno())), self.workdir, self.cgroup),
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


class SandboxStudent:
    """``checks.Student`` backed by one sandbox process (restarted only when needed).

    Args:
        cells: The student's code cells, in notebook order (magics already neutralised).
        problemset: The problem-set module (for ``FORBIDDEN``).
        report: Static analysis of ``cells`` (``static.analyze``).
        cell_timeout: Seconds allowed per cell; a cell that takes longer (or kills the process)
            is skipped from then on, and reported in ``cell_errors``.
    """

    def __init__(
        self,
        cells: Sequence[str],
        problemset: ModuleType,
        report: StaticReport,
        cell_timeout: float = 30.0,
    ) -> None:
        self.cells = list(cells)
        self.problemset = problemset
        self.report = report
        self.cell_timeout = cell_timeout
        self._sandbox: Sandbox | None = None
        self._skip: dict[int, str] = {}
        self._cell_errors: dict[int, str] = {}
        self._runtime: dict[str, list[tuple[str, str]]] = {}
        self._defined: dict[str, bool] = {}
        self.starts = 0

    # -- lifecycle -------------------------------------------------------------------------
    def _boot(self) -> Sandbox:
        if self._sandbox is not None and self._sandbox.alive:
            return self._sandbox
        for _ in range(len(self.cells) + 2):
            self.starts += 1
            sandbox = Sandbox()
            try:
                if self.report.mentions_scipy:
                    sandbox.request({"op": "scipy"}, timeout=60.0)
                self._cell_errors = {}
                for index, source in enumerate(self.cells):
                    if index in self._skip:
                        continue
                    self._run_cell(sandbox, index, source)
                names = list(self.problemset.FUNCTIONS)
                reply = sandbox.request({"op": "defined", "names": names}, timeout=30.0)
                self._defined = {n: bool(v) for n, v in reply["defined"].items()}
            except _CellKilled:
                continue
            self._sandbox = sandbox
            return sandbox
        raise StudentError("the grader could not run your notebook's code (it kept crashing)")

    def _run_cell(self, sandbox: Sandbox, index: int, source: str) -> None:
        label = f"cell {index + 1}"
        request = {"op": "exec", "index": index, "source": source, "filename": f"<{label}>"}
        try:
            reply = sandbox.request(request, timeout=self.cell_timeout)
        except SandboxTimeout:
            self._skip[index] = f"{label} did not finish within {self.cell_timeout:g} s"
            raise _CellKilled from None
        except SandboxCrashed:
            self._skip[index] = f"{label} stopped the grading process"
            raise _CellKilled from None
        if reply.get("tampered"):
            self._skip[index] = f"{label} changed torch's override machinery"
            self._cell_errors[index] = self._skip[index]
            return
        if "error" in reply:
            err = reply["error"]
            text = f"{label} raised {err['type']}: {err['message']}"
            self._cell_errors[index] = text.rstrip(": ")

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
        errors.update(self._skip)
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
        """All (family, text) observed for ``function``: static, then runtime, deduplicated."""
        items = self.report.findings(function) + self._runtime.get(function, [])
        return list(dict.fromkeys(items))

    def shortcuts(self, function: str) -> list[str]:
        banned = self.banned(function)
        return [text for family, text in self.findings(function) if family in banned]

    def _raise_if_shortcut(self, function: str) -> None:
        banned = self.banned(function)
        hits = [(fam, text) for fam, text in self.findings(function) if fam in banned]
        if hits:
            family, _ = hits[0]
            texts = "; ".join(dict.fromkeys(text for _, text in hits))
            raise ShortcutError(
                f"{function} {texts}. This exercise does not allow code that "
                f"{FAMILIES[family]}{_hint(self.problemset, family)}"
            )

    def call(
        self,
        function: str,
        *args: Any,
        timeout: float = 10.0,
        allow_shortcuts: bool = False,
        return_args: bool = False,
        **kwargs: Any,
    ) -> Any:
        if not allow_shortcuts:
            self._raise_if_shortcut(function)
        sandbox = self._boot()
        if not self.has_function(function):
            raise StudentError(self._missing(function))
        request = {
            "op": "call",
            "name": function,
            "args": args,
            "kwargs": kwargs,
            "return_args": return_args,
        }
        try:
            reply = sandbox.request(request, timeout=timeout)
        except SandboxTimeout:
            self._sandbox = None
            raise StudentError(f"{function} did not return within {timeout:g} s") from None
        except SandboxCrashed:
            self._sandbox = None
            raise StudentError(
                f"{function} stopped the grading process while it ran (it crashed or exited)"
            ) from None
        if reply.get("tampered"):
            self.close()
            raise ShortcutError(
                f"{function} changed torch's function or dispatch mode stack; the grader cannot "
                "trust a result computed that way"
            )
        runtime = self._runtime.setdefault(function, [])
        for family, text in reply.get("findings", []):
            if (family, text) not in runtime:
                runtime.append((str(family), str(text)))
        if not allow_shortcuts:
            self._raise_if_shortcut(function)
        if "error" in reply:
            err = reply["error"]
            message = f"{function} raised {err['type']}"
            if err.get("message"):
                message += f": {err['message']}"
            if err.get("where"):
                message += f" (at {err['where']})"
            raise StudentError(message)
        if "unreadable" in reply:
            raise StudentError(
                f"{function} returned {reply['unreadable']}; return plain values "
                "(a torch.Tensor, a Python float, or a tuple/list of them)"
            )
        value = decode(reply["value"])
        if return_args:
            return value, decode(reply["args"])
        return value

    def _missing(self, function: str) -> str:
        message = (
            f"{function} is not defined: define it with `def {function}(...)` in the answer cell"
        )
        errors = self.cell_errors
        if errors:
            message += f" (note: {errors[0]})"
        return message


class _CellKilled(Exception):
    """A cell hung or killed the sandbox; it has been added to the skip list."""


def _hint(problemset: ModuleType, family: str) -> str:
    hints = getattr(problemset, "SHORTCUT_HINTS", {})
    hint = hints.get(family)
    return f": {hint}" if hint else "."
