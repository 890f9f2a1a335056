"""Grading kernels forked from a warm parent: a per-worker zygote (``course grade --kernels warm``).

Every grading kernel pays for a fresh interpreter and ``import torch`` (about 1.5 s), while the
student's code runs in well under 0.2 s. With warm kernels (the default of ``course grade`` on
the local pool; the worker sets ``COURSEKIT_WARM_KERNELS=1`` for the kernel launches of its
process, and ``--kernels cold`` or a Dask task sets 0), each grading worker
keeps one **zygote**: a trusted interpreter that has imported torch, NumPy and ipykernel once and
then forks one kernel launcher per notebook. It runs no student code itself.

**How the jail and the fork combine.** A forked process keeps its parent's namespaces, so the
zygote cannot live outside the sandbox and hand a kernel to a per-submission bubblewrap: joining
bwrap's namespaces would need hand-written ``setns`` calls. Instead the zygote itself starts
inside a per-worker bubblewrap made exactly as a cold kernel's (``coursekit.jail.bwrap_command``:
PID, network, IPC and UTS namespaces, read-only system, Python and the student package only, a
private ``/tmp`` and ``/dev`` that only root may write, ``--die-with-parent``, ``--new-session``,
the launcher's few capabilities), whose view contains only what every kernel may see plus two
folders of that worker, bound read-write at their own paths:

* the worker's **stage**: an nbgrader ``autograded/`` folder that holds one submission at a time
  (``worker.Grader`` empties it before and after each student, and ``start_kernel`` refuses a
  warm start, falling back to a cold kernel, unless it holds only the kernel's own
  ``<student>/<assignment>`` folder); the kernel's working folder is that folder, at the same
  path as nbgrader gives it;
* a short private folder under ``/tmp`` for the kernels' connection files, ZMQ ``ipc://`` sockets,
  HOME and TMPDIR (one per kernel, removed when the kernel is shut down).

So one student's kernel never sees another's folder: they are never in the stage together, the
two workers have separate zygotes and stages, and a cold kernel never shares a sandbox.

**Nothing survives from one student to the next.** A kernel is a forked process, so nothing
in memory carries over (the zygote never runs student code, and what it holds is only the
imports). Before forking the next launcher, the zygote waits until every process of the
previous kernel has ended (and kills them after ``CLEAR_SECONDS``), removes every System V IPC
object of the namespace (``ipcrm --all``: a new IPC namespace per kernel would need bwrap per
kernel), and each kernel gets ``RLIMIT_MSGQUEUE`` 0 (no POSIX message queues). The kernel is
dropped to its own sandbox uid, as today, so it cannot write anywhere but its folder and its
private folder (``/tmp`` and ``/dev/shm`` of the zygote's sandbox belong to root, 0755).

**Each kernel still gets today's limits.** The forked launcher runs ``limited_kernel.main``
unchanged (rlimits, sandbox user, guards, watchdog as subreaper, exit status); only the
interpreter image comes from the zygote. The zygote's cgroup caps the worker's kernels and
the zygote together (one kernel at a time, plus the zygote's own memory), not each kernel
apart. jupyter_client manages a tiny proxy process per kernel (``PROXY``) that holds one end
of a socket pair whose other end the launcher holds: killing the proxy (what jupyter_client's
shutdown does) is end-of-file on the launcher's lifeline, so the launcher kills the kernel; when
the kernel exits, the launcher writes its exit status there and the proxy exits with it.

**Fork safety.** The zygote checks that it has exactly one thread (``/proc/self/task``) after
its imports and before every fork (OpenMP and OpenBLAS pools are started lazily, and
``OMP_NUM_THREADS`` etc. come from the worker); the kernel sets ``torch.set_num_threads`` from
``OMP_NUM_THREADS`` itself, and re-seeds Python's and NumPy's global generators from the OS, as
a fresh interpreter would (torch's default generator is untouched, so it starts from its fixed
default seed exactly like a fresh ``import torch``). The hash seed is the zygote's, so the
zygote refuses a kernel whose ``PYTHONHASHSEED`` differs.

The first half of this file (up to ``serve``) runs inside the sandbox as part of the
``python -c`` program (``limits.kernel_program``) and imports nothing from ``coursekit``; the
second half (``KernelZygote``) runs in the grading worker.
"""

import json
import os
import signal
import socket
import sys
import time

WARM_VARIABLE = "COURSEKIT_WARM_KERNELS"
PRELOAD = (  # what every kernel imports anyway: ipykernel's kernel, shell and debugger, pdb
    "numpy",
    "torch",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "pdb",
)
CLEAR_SECONDS = 3.0  # a previous kernel's processes get this long to end before being killed
# Imported by the zygote too when the assignment's own notebooks use the name (``preload_for``):
# what only some assignments' kernels need, each a cost on every zygote start.
PRELOAD_IF_USED = {
    "torch.optim": "torch._dynamo",  # an optimizer's constructor imports it: 1.3-1.6 s per kernel
}
PRELOAD_VARIABLE = "COURSEKIT_ZYGOTE_PRELOAD"  # the worker's choice: module names, comma-separated
MAX_REQUEST = 1 << 20
LIFELINE_NAME = "COURSEKIT_LIFELINE_FD"
THREADS_VARIABLES = ("MKL_NUM_THREADS", "OMP_NUM_THREADS")  # torch's order
EVENTS_VARIABLE = "COURSEKIT_KERNEL_EVENTS"

if "main" not in globals():  # imported as a module; in the zygote's program it is inlined
    from coursekit.batch.limited_kernel import main


# ----------------------------------------------------------------------------- inside the sandbox


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def preload(extra: "list[str] | tuple[str, ...]" = ()) -> None:
    """The expensive imports, once; no torch operation (it would start thread pools)."""
    import importlib

    for name in (*PRELOAD, *extra):
        importlib.import_module(name)


def _namespace_processes() -> list[int]:
    """Every live process of our PID namespace except its init (bwrap) and us."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, os.getpid()):
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    line = stat.read()
            except OSError:
                continue
            if line[line.rindex(b")") + 2 : line.rindex(b")") + 3] != b"Z":
                found.append(int(name))
    return found


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def clear_previous() -> None:
    """Wait for every process of the previous kernel to end (kill them after a while), then
    remove the System V IPC objects it left (``ipcrm --all`` as each owner)."""
    deadline = time.monotonic() + CLEAR_SECONDS
    while True:
        _reap_children()
        left = _namespace_processes()
        if not left:
            break
        if time.monotonic() > deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        time.sleep(0.01)
    owners = set()
    for kind in ("shm", "msg", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as table:
                header, *rows = [line.split() for line in table.read().splitlines()]
        except (OSError, ValueError):
            continue
        columns = [header.index(name) for name in ("uid", "cuid") if name in header]
        owners.update(int(row[i]) for row in rows for i in columns if len(row) > i)
    for uid in owners - {0}:  # only the owner (or CAP_SYS_ADMIN, which we lack) may remove
        import subprocess

        subprocess.run(
            ["ipcrm", "--all"], user=uid, group=uid, extra_groups=[], capture_output=True
        )


def _close_other_descriptors(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


_events_folder: list[int] = []  # the launcher's descriptor of the worker's events folder


def become_launcher(request: dict, fds: list[int]) -> None:
    """In the forked child: the kernel's launcher, as ``python -c`` would have started it.

    ``fds``: the lifeline socket, then (if the worker has one) its events folder, open: the
    folder is not in the zygote's view, so the launcher reaches it as ``/proc/self/fd/N``.
    """
    import random
    import tempfile

    lifeline = fds[0]
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _close_other_descriptors(set(fds))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[LIFELINE_NAME] = str(lifeline)
        os.environ.pop(EVENTS_VARIABLE, None)
        if len(fds) > 1:
            _events_folder.append(fds[1])
            os.environ[EVENTS_VARIABLE] = f"/proc/self/fd/{fds[1]}"
        tempfile.tempdir = None
        random.seed()  # a fresh interpreter seeds from the OS; a fork would repeat the zygote's
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        code = main(request["argv"], prepare=kernel_setup)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException as error:  # noqa: BLE001 - report anything, then die
        print(f"coursekit zygote: the kernel launcher failed: {error}", file=sys.stderr)
    try:
        os.write(lifeline, b"%d\n" % code)
    except OSError:
        pass
    os._exit(code)


def serve(control_fd: int, extra: "list[str] | tuple[str, ...]" = ()) -> None:
    """The zygote's loop: preload (and ``extra`` modules), then one launcher per request (JSON
    plus one descriptor)."""
    control = socket.socket(fileno=control_fd)
    preload(extra)
    hash_seed = os.environ.get("PYTHONHASHSEED")
    control.send(b"ready %d" % thread_count())
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: _reap_children())  # no zombies
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, 2)
        except OSError:
            break
        if not message:
            break  # the worker is gone
        clear_previous()
        request = json.loads(message)
        if not fds:
            control.send(b"error no descriptor")
            continue
        why = ""
        if thread_count() != 1:
            why = f"the zygote has {thread_count()} threads"
        elif request["env"].get("PYTHONHASHSEED") != hash_seed:
            why = "the kernel's PYTHONHASHSEED differs from the zygote's"
        if why:
            for fd in fds:
                os.close(fd)
            control.send(b"error " + why.encode())
            continue
        pid = os.fork()
        if pid == 0:
            control.close()
            become_launcher(request, fds)
        for fd in fds:
            os.close(fd)
        control.send(b"ok %d" % pid)
    os._exit(0)


def kernel_setup() -> None:
    """In the forked kernel, before student code: what a fresh interpreter would have."""
    for fd in _events_folder:  # the launcher's, not student code's
        os.close(fd)
    resource = sys.modules.get("resource") or __import__("resource")
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))  # no POSIX message queues
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()  # a fresh import seeds torch's default generator from the OS
        threads = _thread_setting()
        if threads is not None:
            torch.set_num_threads(threads)


def _thread_setting() -> int | None:
    """The intra-op thread count a fresh torch reads from the environment: MKL_NUM_THREADS,
    else OMP_NUM_THREADS (torch's ``intraop_default_num_threads``); None if neither is set."""
    for name in THREADS_VARIABLES:
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if value > 0:
            return value
    return None


# ----------------------------------------------------------------------------- in the worker

PROXY = (
    "import os, sys\n"
    "try:\n    data = os.read(int(sys.argv[1]), 64)\nexcept OSError:\n    data = b''\n"
    "sys.exit(int(data) if data.strip().isdigit() else 1)\n"
)
ZYGOTE_PROGRAM_FILES = ("kernel_guard.py", "limited_kernel.py", "zygote.py")
BOOTSTRAP = (
    "import base64, os, sys, zlib; __name__ = 'coursekit_zygote'; "
    "exec(zlib.decompress(base64.b64decode(os.environ.pop('COURSEKIT_KERNEL_PROGRAM')))); "
    "serve(int(sys.argv[1]), sys.argv[2:])"
)
STAGE_NAME = "autograded"
ZYGOTE_PIDS_EXTRA = 16
ZYGOTE_MEMORY_MB = 1536  # the zygote's own pages (torch imported), besides one kernel's


def preload_for(notebooks: "os.PathLike | str", table: "dict[str, str] | None" = None) -> str:
    """The modules of ``table`` (``PRELOAD_IF_USED``: name used -> module to import) that the
    notebooks of folder ``notebooks`` (the assignment's source) call for, comma-separated (the
    value of ``PRELOAD_VARIABLE``)."""
    import pathlib

    folder = pathlib.Path(notebooks)
    text = ""
    if folder.is_dir():
        text = "".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.ipynb")))
    table = PRELOAD_IF_USED if table is None else table
    return ",".join(sorted({module for name, module in table.items() if name in text}))


def _extra_preload(env: dict[str, str]) -> list[str]:
    """The extra modules named in ``env`` (only known ones: the value only chooses among them)."""
    known = set(PRELOAD_IF_USED.values())
    return [name for name in env.get(PRELOAD_VARIABLE, "").split(",") if name in known]


class ZygoteUnavailable(RuntimeError):
    """No warm start for this kernel (the caller starts a cold one); one line: why."""


def enabled() -> bool:
    return os.environ.get(WARM_VARIABLE) == "1"


def stage_of(cwd: str) -> tuple[str, str, str] | None:
    """(stage, student, assignment) when ``cwd`` is ``<stage>/<student>/<assignment>`` and the
    stage is an nbgrader ``autograded/`` folder."""
    assignment = os.path.basename(cwd)
    student_folder = os.path.dirname(cwd)
    stage = os.path.dirname(student_folder)
    if os.path.basename(stage) != STAGE_NAME:
        return None
    return stage, os.path.basename(student_folder), assignment


def stage_holds_only(stage: str, student: str, assignment: str) -> bool:
    """Does the stage hold this one submission's folder and nothing else?"""
    try:
        return os.listdir(stage) == [student] and os.listdir(os.path.join(stage, student)) == [
            assignment
        ]
    except OSError:
        return False


class KernelZygote:
    """The worker's zygote in its bubblewrap sandbox (see the module docstring)."""

    _instance: "KernelZygote | None" = None

    def __init__(self, stage: str, env: dict[str, str], limits: tuple[int, int]) -> None:
        import subprocess
        import tempfile

        from coursekit import jail
        from coursekit.batch.limits import kernel_program

        self.stage = stage
        self.stage_inode = os.stat(stage).st_ino
        self.private_root = tempfile.mkdtemp(prefix="ck-z")  # short: ipc paths have 107 bytes
        os.chmod(self.private_root, 0o711)
        memory_mb, max_procs = limits
        self.cgroup = jail.Cgroup.create(
            max_procs + 64 + 8 + ZYGOTE_PIDS_EXTRA,
            (memory_mb + 256 + ZYGOTE_MEMORY_MB) * 1024 * 1024,
        )
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        zygote_env = {k: v for k, v in env.items() if not k.startswith("COURSEKIT_")}
        zygote_env.pop("JPY_PARENT_PID", None)
        zygote_env.update(HOME=self.private_root, TMPDIR=self.private_root)
        zygote_env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(self.private_root, "torchinductor")
        zygote_env["COURSEKIT_KERNEL_PROGRAM"] = kernel_program(ZYGOTE_PROGRAM_FILES)
        argv = [sys.executable, "-c", BOOTSTRAP, str(theirs.fileno()), *_extra_preload(env)]
        command = jail.bwrap_command(
            argv,
            writable=[self.private_root, stage],
            cwd=self.private_root,
            keep_caps=jail.LAUNCHER_CAPS,
        )
        self.process = _start(
            self.cgroup.wrap(command),
            cwd=self.private_root,
            env=zygote_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.sock.settimeout(120.0)
        try:
            ready = self.sock.recv(64).split()
        except OSError:
            ready = []
        if len(ready) != 2 or ready[0] != b"ready":
            self.close()
            raise ZygoteUnavailable("the kernel zygote did not start")
        self.threads_at_ready = int(ready[1])
        if self.threads_at_ready != 1:
            self.close()
            raise ZygoteUnavailable(
                f"the kernel zygote has {self.threads_at_ready} threads after its imports"
            )
        self.sock.settimeout(30.0)
        import atexit

        atexit.register(self.close)  # stopped and waited for (its CPU time counts as ours)

    @classmethod
    def get(cls, stage: str, env: dict[str, str], limits: tuple[int, int]) -> "KernelZygote":
        """This process's zygote for ``stage`` (a new one if the stage changed or it died)."""
        current = cls._instance
        if current is not None and current.pid_owner != os.getpid():
            cls._instance = current = None  # a forked worker: the parent's zygote is not ours
        if current is not None and (
            current.process.poll() is not None
            or current.stage != stage
            or os.stat(stage).st_ino != current.stage_inode
        ):
            current.close()
            cls._instance = current = None
        if current is None:
            current = cls(stage, env, limits)
            current.pid_owner = os.getpid()
            cls._instance = current
        return current

    pid_owner = -1

    def fork_kernel(self, argv: list[str], env: dict[str, str], cwd: str) -> socket.socket:
        """Fork a kernel launcher for ``argv`` in ``cwd``; our end of its lifeline socket."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {k: v for k, v in env.items() if k not in ("JPY_PARENT_PID", LIFELINE_NAME)}
        env.pop("COURSEKIT_KERNEL_PROGRAM", None)
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode("utf-8")
        fds = [theirs.fileno()]
        events = env.get(EVENTS_VARIABLE)
        if events and os.path.isdir(events):
            fds.append(os.open(events, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        try:
            socket.send_fds(self.sock, [request], fds)
            reply = self.sock.recv(4096)
        except OSError as error:
            ours.close()
            raise ZygoteUnavailable(f"the kernel zygote did not answer ({error})") from None
        finally:
            theirs.close()
            for fd in fds[1:]:
                os.close(fd)
        if not reply.startswith(b"ok "):
            ours.close()
            raise ZygoteUnavailable(reply.decode(errors="replace") or "the kernel zygote ended")
        return ours

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        self.cgroup.remove()
        self.sock.close()
        import shutil

        shutil.rmtree(self.private_root, ignore_errors=True)


_launchers: dict = {}


def _start(command: list[str], **popen):  # noqa: ANN003, ANN202
    """``Popen`` from a thread that lives as long as this process: bwrap's --die-with-parent
    follows the thread that started it (as ``coursekit.verdicts.sandbox`` does)."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    pid = os.getpid()
    if pid not in _launchers:
        _launchers[pid] = ThreadPoolExecutor(1, thread_name_prefix="coursekit-zygote-launcher")
    return _launchers[pid].submit(subprocess.Popen, command, **popen).result()


def close_zygote() -> None:
    """Stop this process's zygote, if it has one (the worker calls it when it is done)."""
    current = KernelZygote._instance
    if current is not None and current.pid_owner == os.getpid():
        current.close()
    KernelZygote._instance = None
