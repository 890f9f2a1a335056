"""What the hub test needs from the machine: real system users, a Python they can run, ports.

* ``SystemUsers`` creates groups and users with ``groupadd``/``useradd`` (homes mode 700, a random
  password set with ``chpasswd``) and removes them, homes included, with ``userdel``/``groupdel``.
  Each user carries a marker in its comment field (``MARKER``): a user of that name without it
  is someone else's, and the test stops rather than touch it; one with it is a leftover of an
  interrupted run, and is removed first (so is a group whose members are all such users).
* ``PythonView``: the hub's users must run the course's Python (.venv). Where Python is
  installed in a folder other users cannot enter (pyenv under /root, mode 700), the hub and
  every process of the test that runs as them start in a private mount namespace (``unshare
  --mount``) in which that folder is an empty tmpfs holding only the Python installation,
  bound read-only at its own path (the rest of that folder, root's home, stays out of sight).
  Nothing on the machine changes (no chmod); the namespace ends with its last process. Where
  Python is readable already (/usr/local in CI's python image), it does nothing.
* ``run_as`` runs a command as one of those users (``setpriv``: uid, gid and groups; no
  capabilities left), inside that view.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "course hub test (tests/hub), removed after it"
TOOLS = ("useradd", "userdel", "groupadd", "groupdel", "chpasswd", "setpriv", "unshare", "mount")


def missing_prerequisites() -> list[str]:
    """Why this machine cannot run the hub test (empty: it can)."""
    problems = []
    if os.geteuid() != 0:
        problems.append(
            "it must run as root (JupyterHub's LocalProcessSpawner starts each user's server "
            "as that user, and the test creates system users); CI runs as root"
        )
    missing = [t for t in TOOLS if _tool(t) is None]
    if missing:
        problems.append(f"missing commands: {', '.join(missing)} (Debian: passwd, util-linux)")
    if not sys.platform.startswith("linux"):
        problems.append("it needs Linux (PAM, useradd, mount namespaces)")
    return problems


def _tool(name: str) -> str | None:
    """The program ``name``, on PATH or in the sbin folders (which a user's PATH may lack)."""
    found = shutil.which(name)
    if found:
        return found
    return next((str(p) for d in ("/usr/sbin", "/sbin") if (p := Path(d, name)).exists()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- system users


@dataclass
class Account:
    name: str
    password: str
    uid: int
    gid: int
    home: Path


def _run(*argv: str, input: str | None = None) -> None:  # noqa: A002
    done = subprocess.run(
        [_tool(argv[0]) or argv[0], *argv[1:]], input=input, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()}")


@dataclass
class SystemUsers:
    """Groups and users made for one test run, all removed by ``remove()``."""

    groups: list[str] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)

    def add_group(self, name: str) -> None:
        try:
            grp.getgrnam(name)
        except KeyError:
            pass
        else:
            if not _is_leftover_group(name):
                raise RuntimeError(
                    f"a group named {name} exists already on this machine and is not the "
                    "test's: remove it, or run the test elsewhere"
                )
            _run("groupdel", name)  # a leftover of an interrupted run
        _run("groupadd", name)
        self.groups.append(name)

    def add_user(self, name: str, groups: list[str]) -> Account:
        try:
            existing = pwd.getpwnam(name)
        except KeyError:
            pass
        else:
            if existing.pw_gecos != MARKER:
                raise RuntimeError(
                    f"a user named {name} exists already on this machine and is not the "
                    "test's: remove it, or run the test elsewhere"
                )
            problem = _remove_user(name)  # a leftover of an interrupted run
            if problem:
                raise RuntimeError(problem)
        _run(
            "useradd",
            "--create-home",
            "--user-group",
            "--shell",
            "/bin/bash",
            "--comment",
            MARKER,
            "-K",
            "HOME_MODE=0700",
            *(["--groups", ",".join(groups)] if groups else []),
            name,
        )
        password = secrets.token_urlsafe(18)
        account = pwd.getpwnam(name)
        self.accounts[name] = Account(
            name, password, account.pw_uid, account.pw_gid, Path(account.pw_dir)
        )
        _run("chpasswd", input=f"{name}:{password}\n")
        return self.accounts[name]

    def remove(self) -> list[str]:
        """Remove every user (home included) and group made; return what could not be."""
        problems = []
        for name in reversed(list(self.accounts)):
            stop_processes_of(self.accounts[name].uid)
            problem = _remove_user(name)
            if problem:
                problems.append(problem)
        for name in reversed(self.groups):
            try:
                _run("groupdel", name)
            except RuntimeError as error:
                if _exists_group(name):
                    problems.append(str(error))
        return problems


def _remove_user(name: str) -> str | None:
    """userdel, home included; why the user is still there, if it is (userdel also complains
    about a mail spool that was never made: that is no failure)."""
    userdel = _tool("userdel") or "userdel"
    done = subprocess.run([userdel, "--force", "--remove", name], capture_output=True, text=True)
    if _exists_user(name):
        return f"userdel {name} failed: {done.stderr.strip()}"
    return None


def _exists_user(name: str) -> bool:
    return any(u.pw_name == name for u in pwd.getpwall())


def _exists_group(name: str) -> bool:
    return any(g.gr_name == name for g in grp.getgrall())


def _is_leftover_group(name: str) -> bool:
    """A group of that name left by an interrupted run: its members, if any, are test users,
    and no user has it as their primary group. (The test's group names are its own.)"""
    group = grp.getgrnam(name)
    for member in group.gr_mem:
        try:
            if pwd.getpwnam(member).pw_gecos != MARKER:
                return False
        except KeyError:
            continue
    return not any(u.pw_gid == group.gr_gid for u in pwd.getpwall())


def stop_processes_of(uid: int) -> None:
    """SIGKILL each process still running as ``uid`` (a test user's, by pid; userdel refuses a
    user with processes). The hub stops their servers first; this catches stragglers."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), 9)
        except (OSError, ProcessLookupError):
            continue


# ----------------------------------------------------------------------------- Python for them


def _others_can_enter(path: Path) -> bool:
    mode = path.stat().st_mode
    return bool(mode & stat.S_IXOTH) and bool(mode & stat.S_IROTH)


@dataclass(frozen=True)
class PythonView:
    """How processes of other users reach this Python (see the module docstring)."""

    installation: Path  # the real sys.base_prefix
    hidden: Path | None  # the folder they cannot enter, covered by a tmpfs (None: no need)
    stash: Path | None  # an empty folder of ours, used while mounting

    @classmethod
    def for_this_python(cls, scratch: Path, course_root: Path) -> PythonView:
        installation = Path(os.path.realpath(sys.base_prefix))
        for folder in [*reversed(course_root.parents), course_root, course_root / ".venv"]:
            if not _others_can_enter(folder):
                raise RuntimeError(
                    f"{folder} is not readable by other users (mode "
                    f"{stat.S_IMODE(folder.stat().st_mode):o}): the hub's users run the "
                    "course's .venv, so the course folder must be readable by everyone"
                )
        hidden = next(
            (
                p
                for p in [*reversed(installation.parents), installation]
                if not _others_can_enter(p)
            ),
            None,
        )
        if hidden is None:
            return cls(installation, None, None)
        if hidden == installation or hidden == Path("/"):
            raise RuntimeError(f"Python's own folder {installation} is not readable by others")
        below = [p for p in installation.parents if hidden in p.parents] + [installation]
        closed = [p for p in below if not _others_can_enter(p)]
        if closed:
            raise RuntimeError(
                f"{closed[0]} (inside the Python installation's path) is not readable by others"
            )
        stash = scratch / "python-stash"
        stash.mkdir(mode=0o700)
        return cls(installation, hidden, stash)

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv``, started inside the view (unchanged when none is needed)."""
        if self.hidden is None:
            return argv
        script = (
            'set -eu; python="$1"; hidden="$2"; stash="$3"; shift 3; '
            'mount --bind "$python" "$stash"; '
            'mount -t tmpfs -o mode=0755,size=64k course-hub-view "$hidden"; '
            'mkdir -p "$python"; '
            'mount --bind "$stash" "$python"; '
            'mount -o remount,bind,ro "$python"; '
            'umount "$stash"; '
            'exec "$@"'
        )
        return [
            _tool("unshare") or "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            script,
            "python-view",
            str(self.installation),
            str(self.hidden),
            str(self.stash),
            *argv,
        ]

    def describe(self) -> str:
        if self.hidden is None:
            return f"Python ({self.installation}) is readable by everyone: no view needed"
        return (
            f"Python ({self.installation}) is inside {self.hidden}, which other users cannot "
            f"enter: their processes run in a mount namespace where {self.hidden} is a tmpfs "
            "holding only that installation (read-only)"
        )


def user_environment(account: Account, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean login-like environment for ``account``, the course's .venv first on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "HOME": str(account.home),
        "USER": account.name,
        "LOGNAME": account.name,
        "SHELL": "/bin/bash",
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
    }
    env.update(extra or {})
    return env


def as_user(account: Account, argv: list[str]) -> list[str]:
    """``argv`` run as ``account`` (its uid, gid and groups; no capabilities)."""
    return [
        _tool("setpriv") or "setpriv",
        f"--reuid={account.uid}",
        f"--regid={account.gid}",
        "--init-groups",
        "--",
        *argv,
    ]


def run_as(
    view: PythonView,
    account: Account,
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run ``argv`` as ``account`` in ``cwd``, inside the Python view; capture its output."""
    return subprocess.run(
        view.wrap(as_user(account, argv)),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
