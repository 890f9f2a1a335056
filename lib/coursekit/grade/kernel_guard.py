"""Inside the grading kernel, before any student code: two guards, then ipykernel.

Started by ``limited_kernel`` (already limited, usually as the sandbox user) as
``python -m coursekit.grade.kernel_guard -f CONNECTION_FILE``.

* **Writes outside the submission folder.** An audit hook (``sys.addaudithook``; it cannot be
  removed from Python) refuses to open a file for writing, or to create, remove, rename, link or
  chmod a path, unless the path (symlinks resolved) lies in the kernel's working folder (the
  submission's own ``autograded/<student>/<id>/``) or in the kernel's private HOME/TMPDIR. It
  raises ``PermissionError`` in the student's cell and logs the path. As the sandbox user the
  operating system refuses such writes anyway; the hook also covers a non-root instructor,
  and names the path for the report.
* **Gigantic output.** ``jupyter_client.session.Session.send`` is wrapped: the output messages
  of one cell (stream, display, result, error) may carry ``output_mb`` in all; the first message
  over the cap is replaced by a one-line notice on stdout and later ones are dropped, so that a
  runaway ``print`` loop never reaches the grading process.

Both guards report through an inherited file descriptor (JSON lines) that the launcher opened
in the worker's events folder. Student code runs in this same process and could undo the output
cap on purpose; the launcher's memory limit still bounds it and the grade itself never depends
on it. The events only explain what happened; they never change a score.
"""

from __future__ import annotations

import json
import os
import sys

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


def main() -> None:
    env = os.environ
    fd = env.pop("COURSEKIT_GUARD_EVENTS_FD", None)
    reporter = Reporter(int(fd) if fd else None)
    workdir = env.pop("COURSEKIT_GUARD_WORKDIR", os.getcwd())
    private = env.pop("COURSEKIT_GUARD_PRIVATE", None)
    cap = int(env.pop("COURSEKIT_GUARD_OUTPUT_BYTES", str(16 * 1024 * 1024)))
    sys.dont_write_bytecode = True
    install_output_cap(cap, reporter)
    install_write_guard([workdir] + ([private] if private else []), reporter)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does; IPython puts the cwd back later
    from ipykernel import kernelapp

    sys.argv = ["ipykernel_launcher", *sys.argv[1:]]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
