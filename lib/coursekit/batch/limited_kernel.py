"""Launcher of the limited grading kernel: rlimits, a sandbox user, a process watchdog.

jupyter_client starts this instead of ipykernel (see ``limits.kernelspec``). The kernelspec runs
it as a ``python -c`` program made of this file and ``kernel_guard.py`` (neither imports
``coursekit``; the program travels in an environment variable), so that it also starts inside
the grading sandbox of ``coursekit.jail`` (bubblewrap), where student code sees Python and the
student package but not the course. There it is pid 2 of its own PID namespace, root with only
the few capabilities it needs below. It forks:

* the **child** becomes the kernel. It sets ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (file size)
  and ``RLIMIT_CORE`` (no core dumps), hard and soft, so student code cannot raise them. When
  we run as root (and the kernel's folder is an nbgrader ``autograded/`` folder, which it then
  owns) it drops to a dedicated, otherwise unused user id (``$COURSEKIT_SANDBOX_UID``, which the
  sandbox's kernel manager makes unique per kernel, else ``2_000_000 + its own pid``), with no
  groups, because
  ``RLIMIT_NPROC`` does not apply to root: as that user, ``fork`` fails once the kernel has
  ``max_procs`` + 64 tasks, and the course's files (root's, not world-writable) are read-only to
  it. If other users cannot read Python (here it lives under /root), the user keeps one
  capability, ``CAP_DAC_READ_SEARCH`` (read anything, write nothing new). Not root, it keeps
  the user and sets ``RLIMIT_NPROC`` to the user's current task count plus that margin. It asks
  to be killed if the launcher dies (``PR_SET_PDEATHSIG``), forbids privilege gains
  (``PR_SET_NO_NEW_PRIVS``), installs the in-kernel guards (``kernel_guard``: no writes outside
  the submission folder, capped output) and runs ipykernel.
* the **parent** stays as a watchdog. It is a child subreaper, so every process the kernel
  starts stays its descendant even if orphaned. Every 0.25 s, whenever a child ends (at most 20
  times a second), and at once when the kernel's fork wrapper reports a fork that failed for
  lack of processes, it counts them (from /proc): more than ``max_procs`` (a fork bomb), or
  more than ``memory_mb`` of resident memory between them while the machine runs short (fork
  then allocate), and it kills them all, keeping the kernel; if that goes on for 5 s, it kills the
  kernel too. When the kernel exits it kills whatever is left (the subreaper sees even
  double-forked daemons), gives the files back to the launcher's user, and exits with the
  kernel's status, so that jupyter_client sees a dead kernel at once. It also kills the kernel
  when the process that started it is gone: its parent changed, or (in the sandbox, where the
  parent is bubblewrap's pid 1) the lifeline it inherited (``$COURSEKIT_LIFELINE_FD``, the read
  end of a pipe only the starting process could write to, see ``coursekit.jail.lifeline``)
  reads end-of-file; if that happened before the kernel started, it starts none.

What happened is written as JSON lines to ``$COURSEKIT_KERNEL_EVENTS/`` (a root-only folder
the grading worker made, which the sandbox binds in; failing that, to
``.coursekit-kernel-events/`` in the kernel's folder, which the worker removes), and
``coursekit.batch.reasons`` turns it into the report's one-line reasons. jupyter_client
interrupts a cell by sending SIGINT to the process group, or, in the sandbox (its own session),
by a message on which the kernel signals itself; the watchdog ignores SIGINT.
"""

import argparse
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MB = 1024 * 1024
THREAD_MARGIN = 64  # RLIMIT_NPROC counts threads too: ipykernel, zmq and torch threads
SANDBOX_UID_BASE = 2_000_000
POLL_SECONDS = 0.25  # a failed fork wakes the watchdog at once (the alarm pipe)
CHECK_GAP_SECONDS = 0.05  # at most 20 checks a second, however many children end
STRIKE_GAP_SECONDS = 1.0  # killing extras counts as one strike per second at most
STRIKES_BEFORE_KILLING_KERNEL = 5  # so a bomb that persists 5 s takes the kernel with it
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LAUNCHER_EVENTS = "launcher.jsonl"
GUARD_EVENTS = "guard.jsonl"
FALLBACK_EVENTS = ".coursekit-kernel-events"  # in the kernel's folder, if the events folder fails
LIFELINE_VARIABLE = "COURSEKIT_LIFELINE_FD"  # as coursekit.jail names it

if "run_guarded_kernel" not in globals():  # imported as a module; in the kernelspec it is inlined
    from coursekit.batch.kernel_guard import run_guarded_kernel


def _prctl(option: int, value: int, extra: int = 0) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, extra, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


class Events:
    """Append-only JSON-lines logs: the launcher's, and a descriptor for the guard's."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / LAUNCHER_EVENTS if folder else None

    @classmethod
    def open(cls, workdir: Path) -> "Events":
        """Events in ``$COURSEKIT_KERNEL_EVENTS``, or beside the notebook if that is unwritable."""
        folder = os.environ.get("COURSEKIT_KERNEL_EVENTS")
        if not folder:
            return cls(None)
        for candidate in (Path(folder), workdir / FALLBACK_EVENTS):
            try:
                candidate.mkdir(mode=0o700, exist_ok=True)
                with open(candidate / LAUNCHER_EVENTS, "a", encoding="utf-8"):
                    pass
                return cls(candidate)
            except OSError:
                continue
        return cls(None)

    def guard_descriptor(self) -> int | None:
        if self.path is None:
            return None
        fd = os.open(
            self.path.with_name(GUARD_EVENTS), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )
        os.set_inheritable(fd, True)
        return fd

    def write(self, kind: str, **fields: object) -> None:
        if self.path is None:
            return
        line = json.dumps({"kind": kind, "time": time.time(), **fields})
        try:
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError:
            pass


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="coursekit limited kernel")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--max-procs", type=int, required=True)
    parser.add_argument("--file-mb", type=int, required=True)
    parser.add_argument("--output-mb", type=int, required=True)
    parser.add_argument("-f", dest="connection_file", required=True)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- sandbox user


def _world_can_reach(path: Path) -> bool:
    """Can an unrelated user traverse to ``path`` (every ancestor o+x)?"""
    path = path.resolve()
    return all(os.stat(folder).st_mode & 0o001 for folder in [path, *path.parents])


def _has_capability(number: int) -> bool:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> number & 1)
    return False


def sandbox_user(workdir: Path) -> tuple[int | None, bool, str]:
    """The user id to drop to (or None), whether it must keep read access, and why."""
    if os.geteuid() != 0:
        return None, False, "not root: RLIMIT_NPROC applies to the user itself"
    if "autograded" not in workdir.resolve().parts:  # never hand a folder we do not own away
        return None, False, "not an nbgrader autograded/ folder"
    chosen = os.environ.get("COURSEKIT_SANDBOX_UID")
    uid = int(chosen) if chosen else SANDBOX_UID_BASE + os.getpid()  # one user per kernel
    needed = [workdir, Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix)]
    if all(_world_can_reach(p) for p in needed):
        return uid, False, "dropped"
    if _has_capability(CAP_DAC_READ_SEARCH):
        return uid, True, "dropped, keeping read access (Python is not world-readable)"
    return None, False, "another user could not read Python or the course"


def _keep_read_access() -> None:
    """After setuid: keep CAP_DAC_READ_SEARCH (read and search anything), across exec too."""
    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    bit = 1 << CAP_DAC_READ_SEARCH
    data = (Data * 2)(Data(bit, bit, bit), Data(0, 0, 0))
    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_READ_SEARCH)


def _chown_tree(root: Path, uid: int, gid: int, only_from: int | None = None) -> None:
    for folder, dirs, files in os.walk(root):
        for name in [folder, *(os.path.join(folder, f) for f in files + dirs)]:
            try:
                if only_from is None or os.lstat(name).st_uid == only_from:
                    os.lchown(name, uid, gid)
            except OSError:
                pass


def _let_through(folder: Path) -> None:
    """Let the sandbox user pass through a private temporary folder of ours (0700 -> 0711).

    Inside the grading sandbox TMPDIR is such a folder; IPython tests HOME with access(2), which
    ignores the capability that lets the sandbox user pass anyway.
    """
    info = folder.stat()
    ours = info.st_uid == os.getuid() and folder.name.startswith("coursekit-kernel-")
    if ours and not info.st_mode & 0o001:
        os.chmod(folder, (info.st_mode & 0o7777) | 0o011)


def _user_task_count(uid: int) -> int:
    import psutil

    count = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        info = proc.info
        if info["uids"] is not None and info["uids"].real == uid:
            count += info["num_threads"] or 1
    return count


# ----------------------------------------------------------------------------- the kernel


def private_environment(private: Path) -> dict[str, str]:
    """Environment of the kernel: its own HOME, caches and TMPDIR; no COURSEKIT_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEKIT_")}
    home = private / "home"
    tmp = private / "tmp"
    for folder in (home, tmp):
        folder.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        IPYTHONDIR=str(home / ".ipython"),
        MPLCONFIGDIR=str(home / ".matplotlib"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TMPDIR=str(tmp),
        PYTHONDONTWRITEBYTECODE="1",
        # torch._dynamo (imported by any torch.optim optimizer) makes this folder and exports its
        # path; the grading process's own value (under /tmp) must not reach the kernel, where a
        # write there is refused and fails the student's cell.
        TORCHINDUCTOR_CACHE_DIR=str(tmp / "torchinductor"),
    )
    return env


def run_kernel(
    args: argparse.Namespace,
    uid: int | None,
    keep_read: bool,
    kernel: dict,
    prepare: "Callable[[], None] | None" = None,
) -> None:
    """In the forked child: limits, user, guards, then ipykernel. Never returns.

    ``prepare`` runs once the kernel's environment is set (a kernel forked from the warm zygote
    sets its thread count and message-queue limit there, see ``zygote.kernel_setup``).
    """
    try:
        if kernel.get("lifeline") is not None:
            os.close(kernel["lifeline"])  # the launcher's to watch, not student code's
        launcher = os.getppid()
        memory = args.memory_mb * MB
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        size = args.file_mb * MB
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:
            tasks = args.max_procs + THREAD_MARGIN
            resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
            if keep_read:
                _prctl(PR_SET_KEEPCAPS, 1)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            if keep_read:
                _keep_read_access()
        elif os.geteuid() != 0:
            tasks = _user_task_count(os.getuid()) + args.max_procs + THREAD_MARGIN
            resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
        if os.getppid() != launcher:
            os._exit(1)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # interrupts must reach the kernel
        os.environ.clear()
        os.environ.update(kernel["env"])
        tempfile.tempdir = None  # forget the launcher's temp folder: use the kernel's TMPDIR
        if prepare is not None:
            prepare()
        run_guarded_kernel(
            kernel["connection_file"],
            kernel["workdir"],
            kernel["private"],
            args.output_mb * MB,
            kernel["events_fd"],
            kernel["alarm_fd"],
        )
        os._exit(0)
    except SystemExit as done:
        os._exit(done.code if isinstance(done.code, int) else 0)
    except BaseException as error:  # noqa: BLE001 - report anything, then die
        print(f"coursekit limited kernel: could not start: {error}", file=sys.stderr)
    os._exit(1)


# ----------------------------------------------------------------------------- the watchdog


def _process_table() -> dict[int, int]:
    """Parent pid of every live (not zombie) process, read from /proc (no psutil: it is fast)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                line = stat.read()
        except OSError:
            continue
        state, ppid = line[line.rindex(b")") + 2 :].split()[:2]  # the name may hold spaces
        if state != b"Z":
            table[int(name)] = int(ppid)
    return table


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in _process_table().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, IndexError, ValueError):
        return 0


def _memory_is_short() -> bool:
    """Less than max(1 GiB, 5 %) of the machine's memory available."""
    info = {}
    with open("/proc/meminfo", "rb") as meminfo:
        for line in meminfo:
            key, value = line.split(b":", 1)
            info[key] = int(value.split()[0]) * 1024
    total, available = info.get(b"MemTotal", 0), info.get(b"MemAvailable", 0)
    return available < max(1024 * MB, total // 20)


class Watchdog:
    """Counts the kernel's descendants and kills them when they exceed the limits."""

    def __init__(self, kernel_pid: int, args: argparse.Namespace, events: Events) -> None:
        self.kernel_pid = kernel_pid
        self.max_procs = args.max_procs
        self.memory = args.memory_mb * MB
        self.events = events
        self.strikes = 0
        self.stopped = False
        self.last_strike = -STRIKE_GAP_SECONDS

    def extras(self) -> list[int]:
        """Every live descendant process except the kernel itself."""
        return [p for p in _descendants(os.getpid()) if p != self.kernel_pid]

    def check(self) -> None:
        procs = self.extras()
        if len(procs) > self.max_procs:
            self.strike("fork_limit", procs, count=len(procs), limit=self.max_procs)
        elif procs and _memory_is_short():
            rss = sum(_resident_bytes(p) for p in procs)
            if rss > self.memory:  # forked children share pages: only act when memory is short
                self.strike("memory_limit", procs, rss_mb=rss // MB, limit_mb=self.memory // MB)
        if self.strikes >= STRIKES_BEFORE_KILLING_KERNEL and not self.stopped:
            self.stopped = True
            self.events.write("kernel_stopped", why="the limits were hit for seconds on end")
            self.kill_kernel()

    def strike(self, kind: str, procs: list[int], **fields: object) -> None:
        now = time.monotonic()
        if now - self.last_strike >= STRIKE_GAP_SECONDS:
            self.strikes += 1
            self.last_strike = now
            self.events.write(kind, **fields)
        self.kill(procs)

    def kill(self, procs: list[int]) -> None:
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def kill_kernel(self) -> None:
        self.kill([self.kernel_pid])


def lifeline_descriptor() -> int | None:
    """The inherited read end of the starting process's lifeline, if there is one."""
    try:
        fd = int(os.environ.get(LIFELINE_VARIABLE, ""))
        os.fstat(fd)
    except (ValueError, OSError):
        return None
    return fd


def starter_is_gone(lifeline: int | None) -> bool:
    """Has every holder of the lifeline's write end (the process that started us) ended?"""
    if lifeline is None:
        return False
    ready, _, _ = select.select([lifeline], [], [], 0)
    return bool(ready) and not os.read(lifeline, 4096)


def _reap(kernel_pid: int) -> int | None:
    """Reap finished children (orphans included); the kernel's wait status once it ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == 0:
            return None
        if pid == kernel_pid:
            return status


def watch(
    kernel_pid: int,
    args: argparse.Namespace,
    events: Events,
    alarm: int,
    parent: int,
    lifeline: int | None = None,
) -> int:
    """Run the watchdog until the kernel exits; return the kernel's wait status.

    It wakes every 0.25 s, whenever a child ends (SIGCHLD, through a wake-up pipe), at once
    when a process of the kernel reports a failed fork on the ``alarm`` pipe, and at once when
    the ``lifeline`` reads end-of-file (whoever started us is gone: the kernel is killed).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are for the kernel

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(kernel_pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    dog = Watchdog(kernel_pid, args, events)
    checked = 0.0
    listening = [wake_read, alarm, *([lifeline] if lifeline is not None else [])]
    while True:
        status = _reap(kernel_pid)
        if status is not None:
            break
        if os.getppid() != parent:  # whoever started us is gone: stop everything
            events.write("orphaned")
            dog.kill_kernel()
            parent = os.getppid()
        ready, _, _ = select.select(listening, [], [], POLL_SECONDS)
        for fd in ready:
            if os.read(fd, 4096) or fd == wake_read:
                continue
            listening.remove(fd)  # every holder of its write end is gone
            if fd == lifeline:  # so is whoever started us: stop everything
                events.write("orphaned", why="the process that started the kernel ended")
                dog.kill_kernel()
        if alarm in ready or time.monotonic() - checked >= CHECK_GAP_SECONDS:
            dog.check()
            checked = time.monotonic()
    dog.kill(dog.extras())
    return status


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def starter_pid() -> int:
    """The process that started the kernel (jupyter_client says so in JPY_PARENT_PID): if it
    died before we looked, ``os.getppid()`` would already name init."""
    try:
        return int(os.environ["JPY_PARENT_PID"])
    except (KeyError, ValueError):
        return os.getppid()


def main(argv: list[str] | None = None, prepare: "Callable[[], None] | None" = None) -> int:
    starter = starter_pid()
    args = parse_arguments(argv)
    workdir = Path.cwd()
    uid, keep_read, why = sandbox_user(workdir)
    private = Path(tempfile.mkdtemp(prefix="coursekit-kernel-"))
    try:
        conn = private / "connection.json"
        shutil.copyfile(args.connection_file, conn)
        kernel = {
            "env": private_environment(private),
            "connection_file": str(conn),
            "workdir": str(workdir),
            "private": str(private),
        }
        if uid is not None:
            os.chmod(private, 0o700)
            _chown_tree(private, uid, uid)
            _chown_tree(workdir, uid, uid)
            _let_through(private.parent)
        events = Events.open(workdir)  # after the chown: stays root's
        kernel["events_fd"] = events.guard_descriptor()
        events.write(
            "start",
            uid=uid,
            sandbox=why,
            pid=os.getpid(),
            workdir=str(workdir),
            private=str(private),
            forked=prepare is not None,  # from the warm zygote
        )
        kernel["lifeline"] = lifeline = lifeline_descriptor()
        if starter_is_gone(lifeline):  # it was killed while we started: start no kernel
            events.write("orphaned", why="the process that started the kernel ended")
            if uid is not None:
                _chown_tree(workdir, os.getuid(), os.getgid(), only_from=uid)
            return 1
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        alarm_read, kernel["alarm_fd"] = os.pipe()
        kernel_pid = os.fork()
        if kernel_pid == 0:
            os.close(alarm_read)
            run_kernel(args, uid, keep_read, kernel, prepare)
        os.close(kernel["alarm_fd"])
        status = watch(kernel_pid, args, events, alarm_read, starter, lifeline)
        code = _exit_code(status)
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        events.write("exit", code=os.WEXITSTATUS(status) if signum is None else None, signal=signum)
        if uid is not None:
            _chown_tree(workdir, os.getuid(), os.getgid(), only_from=uid)
        return code
    finally:
        shutil.rmtree(private, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
