"""Inside the grading kernel, before any student code: two guards, then ipykernel.

``run_guarded_kernel`` is called by ``limited_kernel`` in the forked kernel process, once its
limits and user are set. Like the launcher, this file imports nothing from ``coursekit``: the
kernelspec runs the two files' source as one ``python -c`` program, so the kernel starts even
where the course's own code is not visible (the grading sandbox of ``coursekit.jail``).

* **Writes outside the submission folder.** An audit hook (``sys.addaudithook``; it cannot be
  removed from Python) refuses to open a file for writing, or to create, remove, rename, link or
  chmod a path, unless the path (symlinks resolved) lies in the kernel's working folder (the
  submission's own ``autograded/<student>/<id>/``) or in the kernel's private HOME/TMPDIR. It
  raises ``PermissionError`` in the student's cell and logs the path. As the sandbox user the
  operating system refuses such writes anyway; the hook also covers a non-root instructor,
  and names the path for the report.
* **Fork bombs.** The launcher's watchdog kills the bomb's processes, but those that were
  direct children of the kernel stay zombies until the kernel reaps them, and zombies count
  against ``RLIMIT_NPROC``: the kernel could not even start a thread afterwards. So ``os.fork``
  is wrapped to remember its children, and once a ``fork`` has failed for lack of processes
  (a bomb, never ordinary use) it wakes the watchdog through the alarm pipe, waits 0.2 s for
  it to kill the bomb, and a background thread reaps the dead children every 0.1 s.
* **Gigantic output.** ``jupyter_client.session.Session.send`` is wrapped: the output messages
  of one cell (stream, display, result, error) may carry ``output_mb`` in all; the first message
  over the cap is replaced by a one-line notice on stdout and later ones are dropped, so that a
  runaway ``print`` loop never reaches the grading process.

Both guards report through an inherited file descriptor (JSON lines) that the launcher opened
in the worker's events folder. Student code runs in this same process and could undo the output
cap on purpose; the launcher's memory limit still bounds it and the grade itself never depends
on it. The events only explain what happened; they never change a score.
"""

import json
import os
import sys
import threading
import time

OUTPUT_TYPES = frozenset(
    {"stream", "display_data", "execute_result", "update_display_data", "error"}
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
PATH_EVENTS = {  # audit event -> indices of its path arguments
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
}
MAX_REPORTED_PATHS = 10


class Reporter:
    """Writes guard events as JSON lines to an inherited descriptor (if any)."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        self.reported: set[str] = set()

    def write(self, kind: str, **fields: object) -> None:
        if self.fd is None:
            return
        line = json.dumps({"kind": kind, **fields}) + "\n"
        try:
            os.write(self.fd, line.encode())
        except OSError:
            pass


def _is_write(event: str, args: tuple) -> list:
    """The paths an audit event writes to (empty if it only reads)."""
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags != -1 and flags & WRITE_FLAGS
        )
        return [path] if writes else []
    indices = PATH_EVENTS.get(event)
    if indices is None:
        return []
    return [args[i] for i in indices if i < len(args)]


def install_write_guard(allowed: list[str], reporter: Reporter) -> None:
    """Refuse writes outside ``allowed`` folders (and /dev/null) from now on."""
    roots = [os.path.realpath(a) for a in allowed]
    realpath, fspath, sep = os.path.realpath, os.fspath, os.sep

    def inside(path: str) -> bool:
        if path == os.devnull:
            return True
        return any(path == root or path.startswith(root + sep) for root in roots)

    def hook(event: str, args: tuple) -> None:
        if event != "open" and event not in PATH_EVENTS:
            return
        for target in _is_write(event, args):
            if target is None or isinstance(target, int):
                continue
            try:
                path = fspath(target)
                if isinstance(path, bytes):
                    path = path.decode(errors="replace")
                path = realpath(path)
            except (TypeError, ValueError):
                continue
            if not inside(path):
                if path not in reporter.reported and len(reporter.reported) < MAX_REPORTED_PATHS:
                    reporter.reported.add(path)
                    reporter.write("write_outside", path=path, operation=event)
                raise PermissionError(
                    f"grading sandbox: writing outside the submission folder is not allowed: {path}"
                )

    sys.addaudithook(hook)


def _size(content: dict) -> int:
    """A cheap estimate of an output message's size in characters."""
    if "text" in content:
        return len(content["text"])
    size = len(str(content.get("evalue", ""))) + sum(
        len(str(t)) for t in content.get("traceback", ())
    )
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    return size


def install_output_cap(cap: int, reporter: Reporter) -> None:
    """Let each cell send at most ``cap`` characters of output to the grader."""
    from jupyter_client.session import Session

    original = Session.send
    used: dict[str, int] = {}

    def send(self, stream, msg_or_type, content=None, parent=None, *args, **kwargs):  # noqa: ANN001
        if isinstance(msg_or_type, dict):  # a message ipykernel built already
            kind = msg_or_type.get("msg_type") or msg_or_type.get("header", {}).get("msg_type")
            body, head = msg_or_type.get("content"), msg_or_type.get("parent_header") or {}
        else:
            kind, body, head = msg_or_type, content, parent or {}
        if kind in OUTPUT_TYPES and isinstance(body, dict):
            key = head.get("msg_id") or (head.get("header") or {}).get("msg_id") or ""
            total = used.get(key, 0)
            if total > cap:
                return None
            total += _size(body)
            used[key] = total
            if total > cap:
                reporter.write("output_limit", cap_mb=cap // (1024 * 1024))
                notice = {
                    "name": "stdout",
                    "text": f"\n[grader: output over {cap // (1024 * 1024)} MB dropped]\n",
                }
                kwargs.pop("header", None)
                return original(self, stream, "stream", notice, head, *args, **kwargs)
        return original(self, stream, msg_or_type, content, parent, *args, **kwargs)

    Session.send = send


REAP_FROM = 32  # so many children not waited for: reap the dead ones (a bomb, not normal use)


def install_fork_reaper(reporter: Reporter, alarm_fd: int | None) -> None:
    """Reap the kernel's dead forked children once a fork failed for lack of processes (or once
    it has ``REAP_FROM`` children): zombies count against RLIMIT_NPROC."""
    original = os.fork
    children: set[int] = set()
    bombed = threading.Event()

    def reap() -> None:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.discard(pid)

    def fork() -> int:
        try:
            pid = original()
        except BlockingIOError:
            if not bombed.is_set():
                reporter.write("fork_failed")
                bombed.set()
            if alarm_fd is not None:
                try:
                    os.write(alarm_fd, b"!")  # wake the watchdog: it kills the extra processes
                except OSError:
                    pass
            time.sleep(0.2)  # ...before this cell goes on
            reap()
            raise
        if pid:
            children.add(pid)
            if len(children) >= REAP_FROM:
                bombed.set()
        else:
            children.clear()  # a child does not reap its parent's children
        return pid

    def keep_reaping() -> None:
        bombed.wait()
        while True:
            reap()
            time.sleep(0.1)

    threading.Thread(target=keep_reaping, name="grader-reaper", daemon=True).start()
    os.fork = fork


def run_guarded_kernel(
    connection_file: str,
    workdir: str,
    private: str,
    cap: int,
    events_fd: int | None,
    alarm_fd: int | None = None,
) -> None:
    """Install the guards, then run ipykernel in this process (does not return)."""
    reporter = Reporter(events_fd)
    sys.dont_write_bytecode = True
    install_output_cap(cap, reporter)
    install_fork_reaper(reporter, alarm_fd)
    install_write_guard([workdir, private], reporter)
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]  # as ipykernel_launcher
    from ipykernel import kernelapp

    sys.argv = ["ipykernel_launcher", "-f", connection_file]
    kernelapp.launch_new_instance()
