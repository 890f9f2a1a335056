"""The grading sandbox: Debian's bubblewrap (``bwrap``) around student code, failing closed.

Student code runs twice during autograding: in nbgrader's kernel (the outputs the student sees)
and in the verdict sandbox (``coursekit.verdicts.sandbox``). Both start inside ``bwrap``:

- new PID, network, IPC and UTS namespaces: student code sees only its own processes, has no
  network at all (the kernel talks ZMQ over ``ipc://`` socket files in a bound folder), and
  cannot signal anything outside;
- a file system made of read-only binds of the system (``/usr``, a few files of ``/etc``),
  Python and the student package ``fromscratch`` only: the course root, ``solutions/``, the
  gradebook and ``coursekit`` itself are not there; a private ``/tmp``; only the working folder
  (and the sandbox's own private folder) writable;
- ``--die-with-parent`` and ``--new-session``; the verdict sandbox runs as uid 65534 in a user
  namespace with no capabilities (``--disable-userns``); the kernel's launcher keeps only the
  capabilities it needs to drop the kernel to its own sandbox user (``limited_kernel``);
- a lifeline for kernels (``lifeline``): bwrap arms ``--die-with-parent`` only after it made
  the namespaces, and its pid 1 only after the mounts, so a process killed while it was
  starting a kernel leaves that sandbox running; the kernel's launcher inherits the read end of
  a pipe only the starting process can write to, and stops the kernel once it reads its end;
- a pids cap and a memory cap through cgroup v1 (``Cgroup``) where this machine lets us make
  cgroups, else only the rlimits the kernel launcher and the sandbox child set themselves.

``check()`` starts bwrap once and verifies that the namespaces were really made; ``course grade``
and ``SafeExecute`` stop with ``SandboxUnavailable`` (one line: what was wrong, what to do)
unless the instructor chose ``--unsafe-no-sandbox`` (``COURSEKIT_UNSAFE_NO_SANDBOX=1``).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "UNSAFE_VARIABLE",
    "Cgroup",
    "SandboxUnavailable",
    "bwrap_command",
    "check",
    "describe",
    "lifeline",
    "outer_pid",
    "unsafe",
]

UNSAFE_VARIABLE = "COURSEKIT_UNSAFE_NO_SANDBOX"
LIFELINE_VARIABLE = "COURSEKIT_LIFELINE_FD"  # read by limited_kernel's launcher
BWRAP_VARIABLE = "COURSEKIT_BWRAP"
KERNEL_PROGRAM_VARIABLE = "COURSEKIT_KERNEL_PROGRAM"  # set by the limited kernelspec
NAMESPACES = ("pid", "net", "ipc", "uts")
NOBODY = 65534
INSTALL_HINT = "install bubblewrap (apt-get install bubblewrap)"
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/mime.types",
    "/etc/alternatives",
)
CPU_INFO = "/sys/devices/system/cpu"  # torch and OpenBLAS count cores here
LAUNCHER_CAPS = (  # what limited_kernel's launcher needs to drop the kernel to a sandbox user
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_CHOWN",
    "CAP_FOWNER",
    "CAP_DAC_READ_SEARCH",
    "CAP_KILL",
)


class SandboxUnavailable(RuntimeError):
    """The sandbox could not be made; the message is one line: what was wrong."""


def unsafe() -> bool:
    """Did the instructor choose to grade without the sandbox (``--unsafe-no-sandbox``)?"""
    return os.environ.get(UNSAFE_VARIABLE) == "1"


def bwrap_path() -> str | None:
    """The ``bwrap`` to use: ``$COURSEKIT_BWRAP`` if set (tests), else the installed one."""
    chosen = os.environ.get(BWRAP_VARIABLE)
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("bwrap") or (
        "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None
    )


# ----------------------------------------------------------------------------- the file system


def readable_paths() -> list[str]:
    """What student code may read: Python, its packages and the student package (read-only)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            paths.add(path)
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    spec = importlib.util.find_spec("fromscratch")
    if spec and spec.submodule_search_locations:
        paths.update(spec.submodule_search_locations)
    found = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    return [p for p in found if not any(p.startswith(q + os.sep) for q in found)]


def _filesystem(writable: Iterable[str], readable: Iterable[str]) -> list[str]:
    # The private /tmp first: every bind after it lands on top of it, so a Python, a course or
    # a working folder that lives under /tmp (a CI checkout, pytest's tmp_path) stays visible.
    args = ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for folder in (*SYSTEM_FOLDERS, *ETC_FILES, CPU_INFO):
        args += ["--ro-bind-try", folder, folder]
    for path in (*readable_paths(), *readable):
        args += ["--ro-bind", path, path]
    for folder in writable:
        args += ["--bind", folder, folder]
    return args


def bwrap_command(
    argv: Sequence[str],
    *,
    writable: Iterable[str] = (),
    readable: Iterable[str] = (),
    cwd: str | None = None,
    keep_caps: Sequence[str] = (),
    unset: Iterable[str] = (),
) -> list[str]:
    """``bwrap ... -- argv``: namespaces, read-only system, private /tmp, ``writable`` bound.

    Args:
        argv: The command to run inside.
        writable: Folders bound read-write at the same path (the working folder, ...).
        readable: More files or folders bound read-only at the same path.
        cwd: The working folder inside (bound read-write too).
        keep_caps: Without it the command runs as uid 65534 in a user namespace with no
            capabilities. With it (we must be root) it stays root with only these capabilities
            (the kernel launcher, which drops to a sandbox user itself).
        unset: Environment variables to remove.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bwrap is not installed")
    writable = [*writable, *([cwd] if cwd else [])]
    args = [bwrap, *_filesystem(writable, readable)]
    args += [f"--unshare-{ns}" for ns in NAMESPACES]
    args += ["--hostname", "grading", "--die-with-parent", "--new-session"]
    if keep_caps:
        args += ["--cap-drop", "ALL"]
        for cap in keep_caps:
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-user", "--disable-userns", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    for name in unset:
        args += ["--unsetenv", name]
    if cwd:
        args += ["--chdir", cwd]
    return [*args, "--", *argv]


# ----------------------------------------------------------------------------- the probe

PROBE = (
    'for ns in pid net ipc uts; do printf "%s " "$(readlink /proc/self/ns/$ns)"; done; '
    'printf "%s " "$(id -u)"; '
    'if [ -e "$1" ]; then printf "visible "; else printf "hidden "; fi; '
    "if touch /usr/.coursekit-probe 2>/dev/null; then echo writable; else echo read-only; fi"
)


def check() -> str:
    """Start bwrap once and verify what it made; a description, or ``SandboxUnavailable``.

    Checked: the four namespaces differ from ours, the uid inside is not root, a private folder
    of ours is not visible, and the system is read-only. A success is remembered (per bwrap).
    """
    return _probe(bwrap_path())


@functools.cache
def _probe(bwrap: str | None) -> str:
    if bwrap is None:
        raise SandboxUnavailable("bwrap is not installed")
    private = tempfile.mkdtemp(prefix="coursekit-probe-")
    try:
        command = bwrap_command(["/bin/sh", "-c", PROBE, "probe", private])
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(f"bwrap could not start ({error})") from None
    finally:
        os.rmdir(private)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise SandboxUnavailable(f"bwrap failed: {why}")
    fields = done.stdout.split()
    _require_seccomp()
    if len(fields) != len(NAMESPACES) + 3:
        raise SandboxUnavailable(f"bwrap's probe printed {done.stdout.strip()!r}")
    for ns, inside in zip(NAMESPACES, fields, strict=False):
        if inside == os.readlink(f"/proc/self/ns/{ns}"):
            raise SandboxUnavailable(f"bwrap did not make a new {ns} namespace")
    uid, private_seen, system = fields[len(NAMESPACES) :]
    if uid == "0":
        raise SandboxUnavailable("bwrap left student code running as root")
    if private_seen != "hidden":
        raise SandboxUnavailable("bwrap left a private folder visible")
    if system != "read-only":
        raise SandboxUnavailable("bwrap left the system writable")
    return describe()


def _require_seccomp() -> None:
    """The verdict sandbox's seccomp filter needs libseccomp (Debian's libseccomp2) through
    ``pyseccomp``: without them its child would stop before the first cell, every time."""
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError) as error:
        raise SandboxUnavailable(
            f"no seccomp filter: {error} (apt-get install libseccomp2; pip install pyseccomp)"
        ) from None


def describe() -> str:
    """One line for logs and reports: what confines student code on this machine."""
    caps = Cgroup.available()
    limits = "cgroup v1 " + "+".join(caps) + " caps" if caps else "rlimits only (no cgroups)"
    return f"bubblewrap sandbox ({', '.join(NAMESPACES)} namespaces; {limits})"


def unconfined_warning() -> str:
    return (
        "UNSAFE: --unsafe-no-sandbox: student code runs unconfined (no bubblewrap sandbox): "
        "it can read and change the course, the gradebook and the grader"
    )


# ----------------------------------------------------------------------------- cgroups v1

CGROUP_ROOT = Path("/sys/fs/cgroup")
_counter = itertools.count()


def _own_cgroup(controller: str) -> Path | None:
    """The folder of our own cgroup for a v1 controller, if it is mounted and writable."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            folder = CGROUP_ROOT / controller / path.lstrip("/")
            return folder if os.access(folder, os.W_OK) else None
    return None


def _sweep(folder: Path) -> None:
    """Remove the empty cgroups that ended processes of ours left behind (a worker killed before
    its clean-up); rmdir refuses a cgroup that still holds a process."""
    for cgroup in folder.glob("coursekit-*"):
        creator = cgroup.name.split("-")[-2] if cgroup.name.count("-") >= 2 else ""
        if creator.isdigit() and not os.path.exists(f"/proc/{creator}"):
            try:
                cgroup.rmdir()
            except OSError:
                pass


class Cgroup:
    """One cgroup v1 per sandbox: ``pids.max`` and ``memory.limit_in_bytes``.

    ``wrap`` prefixes a command with a tiny shell that moves itself into the cgroups and then
    ``exec``s the command (bwrap), so everything in the sandbox is counted from the start.
    """

    CONTROLLERS = ("pids", "memory")

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    @staticmethod
    @functools.cache
    def available() -> tuple[str, ...]:
        """The controllers under which we can make a cgroup here (measured, once)."""
        found = []
        for controller in Cgroup.CONTROLLERS:
            own = _own_cgroup(controller)
            if own is None:
                continue
            _sweep(own)
            probe = own / f"coursekit-probe-{os.getpid()}"
            try:
                probe.mkdir()
                probe.rmdir()
                found.append(controller)
            except OSError:
                continue
        return tuple(found)

    @classmethod
    def create(cls, max_pids: int, memory_bytes: int) -> Cgroup:
        """New cgroups with these caps (none where the machine does not allow it)."""
        name = f"coursekit-{os.getpid()}-{next(_counter)}"
        folders = []
        settings = {
            "pids": {"pids.max": max_pids},
            "memory": {"memory.limit_in_bytes": memory_bytes},
        }
        for controller in cls.available():
            folder = _own_cgroup(controller)
            if folder is None:
                continue
            folder = folder / name
            try:
                folder.mkdir()
                for key, value in settings[controller].items():
                    (folder / key).write_text(str(value))
            except OSError:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            folders.append(folder)
        return cls(folders)

    def wrap(self, argv: Sequence[str]) -> list[str]:
        if not self.folders:
            return list(argv)
        script = 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; '
        script += 'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
        procs = [str(folder / "cgroup.procs") for folder in self.folders]
        return ["/bin/sh", "-c", script, "cgroup", *procs, "--", *argv]

    def remove(self) -> None:
        """Kill whatever is left in the cgroups, then remove them."""
        for folder in self.folders:
            for _ in range(250):  # up to 5 s: a killed process leaves its cgroup when reaped
                try:
                    pids = (folder / "cgroup.procs").read_text().split()
                except OSError:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
        self.folders = []


# ----------------------------------------------------------------------------- pids


def outer_pid(member: int, inner: int) -> int | None:
    """Our pid of the process that is ``inner`` in the PID namespace of process ``member``."""
    try:
        namespace = os.readlink(f"/proc/{member}/ns/pid")
    except OSError:
        return None
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{name}/ns/pid") != namespace:
                continue
            with open(f"/proc/{name}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("NSpid:"):
                        if int(line.split()[-1]) == inner:
                            return int(name)
                        break
        except (OSError, ValueError):
            continue
    return None


def child_pids(parent: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    line = stat.read()
            except OSError:
                continue
            if int(line[line.rindex(b")") + 2 :].split()[1]) == parent:
                found.append(int(name))
    return found


# ----------------------------------------------------------------------------- the lifeline

_lifelines: dict[int, tuple[int, int]] = {}  # pid -> (read end, write end) of its lifeline
_lifeline_lock = threading.Lock()


def lifeline() -> int:
    """The read end of this process's lifeline, to pass to the kernels it starts.

    A pipe that nobody writes to, whose write end only this process holds (close-on-exec, and
    closed in forked children): the read end reads end-of-file once this process has ended,
    however it ended (``SIGKILL`` included) and whenever a kernel looks, before or after it
    started. ``--die-with-parent`` cannot promise that: bwrap asks for ``PR_SET_PDEATHSIG`` only
    after it made its namespaces, its pid 1 only after the mounts, and neither checks whether the
    parent died meanwhile, so a grading worker killed while a sandbox was starting left that
    sandbox, and the kernel in it, running for good.
    """
    pid = os.getpid()
    with _lifeline_lock:
        if pid not in _lifelines:
            _lifelines[pid] = os.pipe()  # both ends non-inheritable (O_CLOEXEC)
        return _lifelines[pid][0]


def _forget_parent_lifelines() -> None:
    """In a forked child: close the parent's lifeline (its kernels must not outlive it here)."""
    global _lifeline_lock
    _lifeline_lock = threading.Lock()  # another thread may have held it at the fork
    for read, write in _lifelines.values():
        for fd in (read, write):
            try:
                os.close(fd)
            except OSError:
                pass
    _lifelines.clear()


os.register_at_fork(after_in_child=_forget_parent_lifelines)


# ----------------------------------------------------------------------------- the kernel

PRIVATE_FOLDERS: list[str] = []  # kernels' private folders, removed by SafeExecute when done
SANDBOX_UID_BASE = 2_000_000
_kernels = itertools.count()


def _option(argv: Sequence[str], name: str, default: int) -> int:
    """The value of ``--name N`` in the kernel's command line (the limited kernel has them)."""
    try:
        return int(argv[list(argv).index(name) + 1])
    except (ValueError, IndexError):
        return default


def _kernel_environment(env: dict[str, str], private: str) -> dict[str, str]:
    """The kernel's own HOME and temporary folder; for the limited kernel, its sandbox user."""
    env.update(IPYTHONDIR=private, MPLCONFIGDIR=private, TMPDIR=private, HOME=private)
    env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(private, "torchinductor")  # torch._dynamo's
    if KERNEL_PROGRAM_VARIABLE in env and "COURSEKIT_SANDBOX_UID" not in env:
        uid = SANDBOX_UID_BASE + (os.getpid() % 100_000) * 100 + next(_kernels) % 100
        env["COURSEKIT_SANDBOX_UID"] = str(uid)
    return env


def _jailed_kernel(
    kernel_cmd: list[str], env: dict[str, str], private: str, cwd: str
) -> tuple[list[str], Cgroup]:
    """The kernel's command inside bubblewrap and its cgroup (the limited kernel's limits)."""
    launcher = KERNEL_PROGRAM_VARIABLE in env and os.geteuid() == 0
    if launcher:  # the kernel, once dropped to its user, binds its ipc sockets there
        os.chown(os.path.join(private, "ipc"), int(env["COURSEKIT_SANDBOX_UID"]), -1)
    writable = [private]
    events = os.environ.get("COURSEKIT_KERNEL_EVENTS")
    if events and os.path.isdir(events):
        writable.append(events)
    command = bwrap_command(
        kernel_cmd,
        writable=writable,
        cwd=cwd,
        keep_caps=LAUNCHER_CAPS if launcher else (),
        unset=["JPY_PARENT_PID"],  # our pid means nothing in the kernel's PID namespace
    )
    memory_mb = _option(kernel_cmd, "--memory-mb", 2048)
    max_procs = _option(kernel_cmd, "--max-procs", 64)
    cgroup = Cgroup.create(max_procs + 64 + 8, (memory_mb + 256) * 1024 * 1024)
    return cgroup.wrap(command), cgroup


def __getattr__(name: str) -> type:
    """``JailedKernelManager``, made on first use: jupyter_client takes a second to import, and
    the sandbox's other users (the ``course`` command line, the verdict sandbox) do not need it.
    nbgrader's ``--Execute.kernel_manager_class=coursekit.jail.JailedKernelManager`` finds it."""
    if name == "JailedKernelManager":
        return _kernel_manager_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _kernel_manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class JailedKernelManager(AsyncKernelManager):
        """Starts the notebook's kernel inside bubblewrap, talking ZMQ over ``ipc://`` sockets.

        The connection file and the socket files live in a private folder bound into the sandbox
        (``--unshare-net`` leaves no TCP). The kernel may write only there and in its working
        folder. The limited kernel's launcher keeps the capabilities it needs to drop the kernel to
        its own sandbox user (``COURSEKIT_SANDBOX_UID``, unique per kernel: pids inside the
        namespace repeat); any other kernel runs as uid 65534 with none. With
        ``--unsafe-no-sandbox`` the kernel starts unconfined, over TCP. Either way it inherits
        the read end of our ``lifeline`` (``$COURSEKIT_LIFELINE_FD``): the limited kernel's
        launcher stops the kernel once we are gone.
        """

        async def _async_pre_start_kernel(self, **kw):  # type: ignore[override]
            zygote = self._coursekit_zygote(kw)
            root = zygote.private_root if zygote is not None else None
            private = tempfile.mkdtemp(prefix="ck-kernel-", dir=root)  # ipc paths: 107 bytes
            os.chmod(private, 0o711)
            PRIVATE_FOLDERS.append(private)
            self._coursekit_private, self._coursekit_cgroup = private, None
            if not unsafe():
                # --new-session: a SIGINT to our child's process group would not reach the
                # kernel; it interrupts itself on an interrupt_request on the control channel
                self.kernel_spec.interrupt_mode = "message"
                self.transport, self.cache_ports = "ipc", False
                self.connection_file = os.path.join(private, "kernel.json")
                os.mkdir(os.path.join(private, "ipc"))
                self.ip = os.path.join(private, "ipc", "k")
            kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
            kw["env"] = _kernel_environment(dict(kw.get("env") or os.environ), private)
            line = lifeline()  # the limited kernel stops once we are gone, however we died
            kw["env"][LIFELINE_VARIABLE] = str(line)
            kw["pass_fds"] = (*kw.get("pass_fds", ()), line)
            if unsafe():
                return kernel_cmd, kw
            cwd = os.path.realpath(kw.get("cwd") or os.getcwd())
            if zygote is not None:
                warm = self._coursekit_fork(zygote, kernel_cmd, kw, private, cwd)
                if warm is not None:
                    return warm, kw
            command, self._coursekit_cgroup = _jailed_kernel(kernel_cmd, kw["env"], private, cwd)
            return command, kw

        def _coursekit_zygote(self, kw: dict):  # noqa: ANN202
            """The worker's warm-kernel zygote, when warm kernels are on and this kernel may
            fork from it (see ``coursekit.batch.zygote``); else None (a cold kernel)."""
            from coursekit.batch import zygote as warm

            self._coursekit_proxy = None
            if not warm.enabled() or unsafe() or os.geteuid() != 0:
                return None
            if KERNEL_PROGRAM_VARIABLE not in (self.kernel_spec.env or {}):
                return None
            cwd = os.path.realpath(kw.get("cwd") or os.getcwd())
            place = warm.stage_of(cwd)
            if place is None or not warm.stage_holds_only(*place):
                self.log.warning("coursekit: cold kernel: %s is not alone in a stage", cwd)
                return None
            argv = self.kernel_spec.argv
            limits = (_option(argv, "--memory-mb", 2048), _option(argv, "--max-procs", 64))
            try:
                return warm.KernelZygote.get(place[0], dict(os.environ), limits)
            except (OSError, warm.ZygoteUnavailable) as error:
                self.log.warning("coursekit: cold kernel: %s", error)
                return None

        def _coursekit_fork(self, zygote, kernel_cmd, kw, private, cwd):  # noqa: ANN001, ANN202
            """Fork the kernel's launcher from the zygote; the proxy's command, or None."""
            from coursekit.batch import zygote as warm

            env = kw["env"]
            os.chown(os.path.join(private, "ipc"), int(env["COURSEKIT_SANDBOX_UID"]), -1)
            try:
                proxy = zygote.fork_kernel(kernel_cmd[3:], env, cwd)
            except warm.ZygoteUnavailable as error:
                self.log.warning("coursekit: cold kernel: %s", error)
                return None
            self._coursekit_proxy = proxy
            self.log.info("coursekit: kernel forked from the warm zygote")
            kw["pass_fds"] = (proxy.fileno(),)
            return [sys.executable, "-I", "-S", "-c", warm.PROXY, str(proxy.fileno())]

        async def _async_launch_kernel(self, kernel_cmd, **kw):  # type: ignore[override]  # noqa: ANN001
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:  # only the proxy holds the launcher's lifeline now
                proxy = getattr(self, "_coursekit_proxy", None)
                if proxy is not None:
                    proxy.close()
                    self._coursekit_proxy = None

        async def _async_cleanup_resources(self, restart: bool = False) -> None:  # type: ignore[override]
            await super()._async_cleanup_resources(restart=restart)
            if restart:
                return
            cgroup = getattr(self, "_coursekit_cgroup", None)
            if cgroup is not None:
                cgroup.remove()
            private = getattr(self, "_coursekit_private", None)
            if private:
                shutil.rmtree(private, ignore_errors=True)

    return JailedKernelManager
