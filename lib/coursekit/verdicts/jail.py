"""A filesystem/signal jail for student code, with Linux Landlock (no privileges needed).

Student code runs twice during autograding: in nbgrader's kernel (for the outputs the student
sees) and in the grading sandbox (for the verdicts). Both run as the grader's user, so without a
jail a cell could rewrite ``gradebook.db``, patch the grader's source, read ``solutions/`` and
print it into its own feedback, or kill the nbgrader process. Landlock (Linux ≥ 5.13) lets a
process give up those rights for itself and its children:

- read and execute only beneath the Python installation, the system libraries and the student
  package ``fromscratch`` (the course repository, ``solutions/`` and ``coursekit`` stay unreadable);
- write only beneath the given folders (a private temporary folder, the notebook's folder);
- no TCP for the sandbox (the kernel keeps TCP for its ZMQ sockets);
- no signals to processes outside the jail (ABI ≥ 6), so neither the kernel nor the sandbox can
  kill nbgrader.

``restrict`` is best effort: on a kernel without Landlock it returns a message saying so and the
grading still works (the verdicts never depend on the kernel; the sandbox keeps its other traps).

Command line (used for the kernel): ``python -m coursekit.verdicts.jail --write DIR ... -- CMD ...``
applies the jail and then ``exec``s CMD.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
import sysconfig
from collections.abc import Iterable

__all__ = ["JailedKernelManager", "landlock_abi", "restrict", "student_readable_paths"]

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # same numbers on x86_64 and arm64
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_WRITE_ABI1 = sum(1 << i for i in range(4, 13))  # remove/make dir, file, sock, fifo, ...
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND, _NET_CONNECT = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The running kernel's Landlock ABI version, 0 if unavailable."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def student_readable_paths() -> list[str]:
    """Folders student code needs to read: Python, system libraries, the student package."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/lib", "/lib64", "/bin",
             "/etc", "/proc", "/sys", "/dev", "/run"}  # fmt: skip
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            paths.add(os.path.realpath(path))
    spec = importlib.util.find_spec("fromscratch")
    if spec and spec.submodule_search_locations:
        paths.update(os.path.realpath(p) for p in spec.submodule_search_locations)
    return sorted(p for p in paths if os.path.exists(p))


def _listable_parents() -> list[str]:
    """Folders on sys.path that import must list (READ_DIR only, no file reads below them)."""
    return sorted({os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)})


def restrict(
    read: Iterable[str],
    write: Iterable[str],
    *,
    allow_tcp: bool = False,
    list_only: Iterable[str] = (),
) -> str:
    """Confine the calling thread (and the processes it starts) with Landlock.

    Args:
        read: Folders (or files) to allow reading and executing beneath.
        write: Folders to allow everything beneath (read, write, create, remove).
        allow_tcp: Keep TCP bind/connect (the Jupyter kernel needs it for ZMQ).
        list_only: Folders whose entries may be listed, without reading files beneath.

    Returns:
        "landlock ABI n" when applied, otherwise a sentence saying why not.
    """
    abi = landlock_abi()
    if abi < 1:
        return "landlock unavailable: student code is not confined to its folders"
    libc = _libc()
    fs = _EXECUTE | _WRITE_FILE | _READ_FILE | _READ_DIR | _FS_WRITE_ABI1
    if abi >= 2:
        fs |= _REFER
    if abi >= 3:
        fs |= _TRUNCATE
    if abi >= 5:
        fs |= _IOCTL_DEV
    attr = _RulesetAttr(handled_access_fs=fs)
    size = 8
    if abi >= 4 and not allow_tcp:
        attr.handled_access_net = _NET_BIND | _NET_CONNECT
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX
        size = 24
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}"
    try:
        file_rights = (
            _EXECUTE
            | _WRITE_FILE
            | _READ_FILE
            | ((_TRUNCATE if abi >= 3 else 0) | (_IOCTL_DEV if abi >= 5 else 0))
        )
        rules = [(p, _EXECUTE | _READ_FILE | _READ_DIR) for p in read]
        rules += [(p, _READ_DIR) for p in list_only]
        rules += [(p, fs) for p in write]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    rights &= file_rights
                    if not rights:
                        continue
                rule = _PathBeneath(allowed_access=rights, parent_fd=fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
                    return f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}"
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
        if libc.syscall(_SYS_RESTRICT, ruleset, 0) != 0:
            return f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"
    finally:
        os.close(ruleset)
    return f"landlock ABI {abi}"


def _main(argv: list[str]) -> None:
    """``--write DIR`` / ``--read PATH`` (repeatable) ``--tcp`` ``--`` then the command to exec."""
    if "--" not in argv:
        raise SystemExit(
            "usage: python -m coursekit.verdicts.jail [--write DIR]... [--read PATH]... [--tcp] "
            "-- CMD"
        )
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    write = [options[i + 1] for i, opt in enumerate(options) if opt == "--write"]
    read = [options[i + 1] for i, opt in enumerate(options) if opt == "--read"]
    status = restrict(
        student_readable_paths() + read,
        write,
        allow_tcp="--tcp" in options,
        list_only=_listable_parents(),
    )
    if not status.startswith("landlock ABI"):
        print(f"[coursekit jail] {status}", file=sys.stderr)
    os.execvp(command[0], command)


PRIVATE_FOLDERS: list[str] = []  # kernels' private folders, removed by SafeExecute when done

try:  # the kernel manager is only needed inside nbgrader, where jupyter_client is installed
    from jupyter_client.manager import AsyncKernelManager
except ImportError:  # pragma: no cover
    AsyncKernelManager = object  # type: ignore[assignment,misc]


class JailedKernelManager(AsyncKernelManager):  # type: ignore[misc,valid-type]
    """Starts the notebook's kernel inside the jail: it may write only in the notebook's folder
    and a private temporary folder, read only Python and the student package, keep TCP for ZMQ,
    and signal nothing outside itself."""

    async def _async_pre_start_kernel(self, **kw):  # type: ignore[override]
        import tempfile

        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        private = tempfile.mkdtemp(prefix="coursekit-kernel-")
        self._coursekit_private = private
        PRIVATE_FOLDERS.append(private)
        env = dict(kw.get("env") or os.environ)
        env.update({"IPYTHONDIR": private, "MPLCONFIGDIR": private, "TMPDIR": private,
                    "HOME": private})  # fmt: skip
        kw["env"] = env
        write = [private]
        cwd = kw.get("cwd")
        if cwd:
            write.append(os.path.realpath(cwd))
        command = [sys.executable, "-m", "coursekit.verdicts.jail", "--tcp"]
        for folder in write:
            command += ["--write", folder]
        # only its own connection file: the runtime folder may hold a Jupyter server's token
        command += ["--read", os.path.realpath(self.connection_file)]
        return [*command, "--", *kernel_cmd], kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:  # type: ignore[override]
        await super()._async_cleanup_resources(restart=restart)
        private = getattr(self, "_coursekit_private", None)
        if private and not restart:
            import shutil

            shutil.rmtree(private, ignore_errors=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
