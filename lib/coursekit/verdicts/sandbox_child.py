"""The sandbox child process: runs a student's cells and answers call requests with plain data.

Started by ``coursekit.verdicts.sandbox`` in an empty temporary folder, with stdin/stdout at
/dev/null: forked from a "zygote" (``python -m coursekit.verdicts.sandbox_child --zygote FD``,
which has imported torch once), or directly as ``python -s -P -m coursekit.verdicts.sandbox_child
REQ_FD RESP_FD``.

What confines it (the zygote and so every child): bubblewrap (``coursekit.jail``): its own PID,
network, IPC and UTS namespaces, uid 65534 with no capabilities, a read-only system with only
Python, the student package and this module's own few files (not the course, the gradebook,
``solutions/`` or the problem sets), its folder the only one writable, a cgroup capping its
processes and memory; then, in each child just before the first student cell, a seccomp filter
(``_confine``): no threads, no processes, no exec. The parent trusts nothing it reads: every
reply must echo its request's sequence number and nonce and be the last thing in the pipe.

Until the first student cell runs, everything here is trusted; so it first

1. sets resource limits (address space, CPU time, file size, no core dumps),
2. imports torch and NumPy and binds every function it needs later to local names ("pristine"
   references: the student may patch ``torch.Tensor.tolist``, ``json.dumps`` or ``isinstance``
   afterwards, the server keeps using the originals),
3. installs the runtime traps (``fromscratch.traps``: torch function and dispatch modes,
   NumPy's and SciPy's LAPACK entry points, threads refused, the course's code profiled) and
   disables ``os._exit``, ``os.kill`` and friends; ``coursekit.verdicts.replies`` runs each cell
   statement and each call under them and encodes the results,
4. installs the seccomp filter (``_confine``),

then serves requests from the parent. Requests arrive pickled (the parent is trusted); replies
leave as JSON made only of plain values, so the parent never unpickles anything from here.

Wire format: 8-byte big-endian length, then the payload. Requests (each also carries
``"seq"``, its number, and ``"nonce"``, fresh random hex; the serve loop removes both before
student code runs and puts them into the reply)::

    {"op": "exec", "index": i, "source": str, "filename": "<cell 3>", "stmt": j or None}
    {"op": "call", "name": str, "args": tuple, "kwargs": dict, "return_args": bool}
    {"op": "defined", "names": [str]}

Replies: ``{"ok": True, "seq": n, "nonce": hex, ...}`` (the first, ``"ready"``, has seq 0)
with ``"error"`` (student exception, readable), ``"value"`` (encoded result, see
``replies.Encoder``), ``"tampered"`` (what changed the observation) and ``"findings"``
([[family, text], ...]) observed by the traps.
"""

import os
import sys

# Pristine builtins as module globals: student code may patch the builtins module.
from builtins import (  # noqa: UP029
    callable,
    dict,
    int,
    len,
    list,
    memoryview,
    min,
    setattr,
    str,
)


def _set_limits() -> None:
    import resource

    gib = 1024**3
    for limit, value in (
        (resource.RLIMIT_AS, 3 * gib),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 64 * 1024**2),
        (resource.RLIMIT_CPU, 600),
    ):
        soft, hard = resource.getrlimit(limit)
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (new, hard))


def main(argv: list) -> None:
    """Set up (trusted, top to bottom), then serve the parent until it closes the pipe."""
    req_fd, resp_fd = int(argv[1]), int(argv[2])
    _set_limits()
    receive, send = _wire(req_fd, resp_fd)  # pristine references, bound before student code
    observer = _install_traps()
    # The process already runs inside bubblewrap (coursekit.jail: namespaces, read-only system,
    # only its folder writable, cgroup caps). Last step before student code: a seccomp filter
    # that makes thread and process creation fail (the traps watch one thread).
    jail = _confine()
    _serve(receive, send, observer, jail)


def _wire(req_fd: int, resp_fd: int):
    """``receive()`` and ``send(message)`` on the two pipes, made only of references taken now
    (the student may patch ``os``, ``json`` or ``struct`` later)."""
    import json
    import pickle
    import signal
    import struct

    os.environ["OMP_NUM_THREADS"] = "1"
    import numpy.linalg  # noqa: F401
    import torch

    torch.set_num_threads(1)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    exit_now = os._exit
    os_read, os_write = os.read, os.write
    pack, unpack = struct.pack, struct.unpack
    dumps, loads = json.dumps, pickle.loads

    def read_exact(n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = os_read(req_fd, min(n - got, 1 << 20))
            if not chunk:
                exit_now(0)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def receive() -> dict:
        (size,) = unpack(">Q", read_exact(8))
        return loads(read_exact(size))

    def send(message: dict) -> None:
        data = dumps(message, allow_nan=True, ensure_ascii=True).encode("ascii")
        data = pack(">Q", len(data)) + data
        view, sent = memoryview(data), 0
        while sent < len(data):
            sent += os_write(resp_fd, view[sent:])

    return receive, send


def _install_traps():
    """fromscratch.traps sees every forbidden routine that runs during a call, whatever named
    it (its docstring has the security argument); replies.Encoder keeps the pristine references
    that turn results into plain data. Exits and signals are refused, so that the process
    survives to answer the parent. Returns the ``replies.Observer``."""
    import signal

    from coursekit.verdicts.replies import Encoder, Observer
    from fromscratch.traps import Traps

    traps = Traps()
    traps.install()
    _refuse_exits_and_signals(signal)
    sys.breakpointhook = _no_breakpoint
    observer = Observer(traps, Encoder())
    for module in (sys.modules[main.__module__], sys.modules["coursekit.verdicts.replies"]):
        traps.watch(module)
    return observer


def _serve(receive, send, observer, jail: str) -> None:
    """Answer requests until the parent closes the pipe. Each reply echoes its request's
    sequence number and nonce; the nonce leaves the request before student code runs."""
    from coursekit.verdicts.replies import observed_call, observed_exec, student_namespace

    namespace = student_namespace()
    send({"ok": True, "ready": True, "jail": jail, "seq": 0, "nonce": None})
    while True:
        request = receive()
        seq, nonce = request.pop("seq", None), request.pop("nonce", None)
        op = request["op"]
        if op == "defined":
            names = {n: callable(namespace.get(n)) for n in request["names"]}
            reply = {"ok": True, "defined": names}
        elif op == "exec":
            reply = observed_exec(observer, namespace, request)
        elif op == "call":
            reply = observed_call(observer, namespace, request)
        else:
            reply = {"ok": True}  # e.g. the former "scipy" request: SciPy is trapped at setup
        reply["seq"], reply["nonce"] = seq, nonce
        send(reply)
        del reply, request, nonce


def _no_breakpoint(*args: object, **kwargs: object) -> None:
    """``breakpoint()`` does nothing while grading (there is no one at a debugger prompt)."""


_REFUSED_OS = (
    "_exit", "abort", "kill", "killpg", "fork", "forkpty", "system", "execv", "execve", "execl",
    "execle", "execlp", "execlpe", "execvp", "execvpe", "popen", "spawnv", "spawnve", "spawnl",
    "spawnle", "posix_spawn", "posix_spawnp", "setsid", "setpgid", "tcsetpgrp",
)  # fmt: skip
_REFUSED_SIGNAL = ("pthread_kill", "raise_signal", "alarm", "setitimer", "signal", "sigwait")


def _refused(name: str):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"{name} is disabled while grading")

    return refuse


def _refuse_exits_and_signals(signal) -> None:
    """The process must survive to answer the parent: no exits, kills, forks or signals."""
    posix = sys.modules.get("posix")
    for name in _REFUSED_OS:
        for module in (os, posix):
            if module is not None and hasattr(module, name):
                setattr(module, name, _refused(f"os.{name}"))
    try:
        import _posixsubprocess  # what subprocess and multiprocessing use to start programs

        _posixsubprocess.fork_exec = _refused("starting a process")
    except ImportError:
        pass
    for name in _REFUSED_SIGNAL:
        if hasattr(signal, name):
            setattr(signal, name, _refused(f"signal.{name}"))


CLONE_THREAD = 0x00010000
_NO_NEW_TASKS = ("clone", "fork", "vfork", "execve", "execveat")  # clone: threads and forks


def _confine() -> str:
    """Install the seccomp filter (libseccomp through ``pyseccomp``): ``clone`` (threads and
    forks), ``fork``, ``vfork``, ``execve`` and ``execveat`` fail with EPERM, ``clone3`` with
    ENOSYS (so that glibc falls back to ``clone``). Every other call is allowed. Returns what
    confines this process; exits if the filter cannot be installed (fail closed), unless the
    instructor chose ``--unsafe-no-sandbox``."""
    import errno

    unsafe = os.environ.get("COURSEKIT_UNSAFE_NO_SANDBOX") == "1"
    where = "unconfined (--unsafe-no-sandbox)" if unsafe else "bubblewrap"
    try:
        import pyseccomp

        rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        for name in _NO_NEW_TASKS:
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
        rules.load()
    except Exception as error:  # noqa: BLE001  (no libseccomp, an old kernel, ...)
        if not unsafe:
            sys.stderr.write(f"coursekit sandbox: no seccomp filter: {error}\n")
            os._exit(3)
        return f"{where}; no seccomp filter ({type(error).__name__})"
    return f"{where}; seccomp: no threads, processes or exec"


def _preimport(optional: list[str]) -> None:
    """The expensive imports, done once in the zygote and shared by every forked child;
    ``optional``: the zygote's extra modules (only ``torch._dynamo`` is known)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import json  # noqa: F401
    import pickle  # noqa: F401
    import socket  # noqa: F401
    import traceback  # noqa: F401

    import numpy.linalg  # noqa: F401
    import pyseccomp  # noqa: F401  (loads libseccomp once)
    import torch
    import torch.overrides  # noqa: F401
    import torch.utils._python_dispatch  # noqa: F401

    import coursekit.verdicts.replies  # noqa: F401
    import fromscratch.traps

    # SciPy: trapped in every child, imported once here
    fromscratch.traps.preimport(dynamo="torch._dynamo" in optional)

    torch.set_num_threads(1)  # before any fork: no intra-op thread pool to copy


def zygote(control_fd: int, optional: list[str]) -> None:
    """Import torch once, then fork one sandbox child per request (saves ~1 s each).

    Requests arrive on a Unix socket: a JSON line {"cwd": folder} with two file descriptors
    attached (the child's request-read and reply-write pipe ends). The reply is the child's pid.
    The zygote runs no student code; each child starts its own session, limits, traps and jail.
    """
    import json
    import signal
    import socket
    import tempfile

    _preimport(optional)
    sock = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    sock.sendall(b"ready\n")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 4096, 2)
        except OSError:
            os._exit(0)
        if not message or len(fds) != 2:
            os._exit(0)
        request = json.loads(message.decode("utf-8"))
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.chdir(request["cwd"])
                os.environ.update(HOME=request["cwd"], TMPDIR=request["cwd"])
                tempfile.tempdir = request["cwd"]
                main(["child", str(fds[0]), str(fds[1])])
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        sock.sendall(f"{pid}\n".encode())


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]), sys.argv[3:])
    else:
        main(sys.argv)
