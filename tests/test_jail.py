"""The grading sandbox (``coursekit.jail``): bubblewrap really run, its probe, its cgroups.

Nothing is mocked: each test starts bwrap. A machine without bubblewrap fails these tests (the
course needs it; ``make setup`` installs it), except the ones that show what happens then.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import coursekit
from coursekit import jail

COURSE_ROOT = Path(coursekit.__file__).resolve().parents[2]


def run_inside(script: str, **options) -> subprocess.CompletedProcess:  # noqa: ANN003
    command = jail.bwrap_command(["/bin/sh", "-c", script], **options)
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_check_verifies_the_namespaces_and_says_what_confines() -> None:
    description = jail.check()
    assert "bubblewrap" in description and "pid, net, ipc, uts" in description
    caps = jail.Cgroup.available()
    assert ("pids" in description) == ("pids" in caps)
    assert ("rlimits only" in description) == (not caps)


def test_missing_bwrap_fails_closed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(jail.BWRAP_VARIABLE, str(tmp_path / "no-such-bwrap"))
    with pytest.raises(jail.SandboxUnavailable, match="bwrap is not installed"):
        jail.check()
    with pytest.raises(jail.SandboxUnavailable):
        jail.bwrap_command(["true"])


def test_a_bwrap_that_makes_no_namespaces_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A ``bwrap`` that runs the command without confining it (a broken or hostile install)."""
    fake = tmp_path / "bwrap"
    fake.write_text('#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done; shift; exec "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setenv(jail.BWRAP_VARIABLE, str(fake))
    with pytest.raises(jail.SandboxUnavailable, match="did not make a new pid namespace"):
        jail.check()


def test_a_failing_bwrap_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv(jail.BWRAP_VARIABLE, str(fake))
    with pytest.raises(jail.SandboxUnavailable, match="No permissions to create new namespace"):
        jail.check()


def test_the_sandbox_sees_python_and_its_folder_only(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "secret.txt").write_text("private")
    script = (
        f"test -e {COURSE_ROOT}/nbgrader_config.py && echo course-visible; "
        f"test -e {COURSE_ROOT}/solutions && echo solutions-visible; "
        f"test -e {tmp_path}/secret.txt && echo tmp-visible; "
        "touch /usr/escape 2>/dev/null && echo system-writable; "
        "echo kept > kept.txt && echo folder-writable; "
        f"{sys.executable} -s -c 'import fromscratch, torch; print(\"python-works\")'; "
        f"{sys.executable} -s -c 'import coursekit' 2>/dev/null || echo coursekit-hidden; "
        "echo host=$(hostname) uid=$(id -u) pid=$$; "
        "ls /proc | grep -c '^[0-9]'"
    )
    done = run_inside(script, cwd=str(work))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert "folder-writable" in lines and "python-works" in lines and "coursekit-hidden" in lines
    assert not {"course-visible", "solutions-visible", "tmp-visible", "system-writable"} & set(
        lines
    )
    assert "host=grading" in lines and "uid=65534" in lines
    assert int(lines[-1]) < 10  # its own processes only
    assert (work / "kept.txt").read_text() == "kept\n"


def test_the_launcher_keeps_only_the_capabilities_it_needs() -> None:
    if os.geteuid() != 0:
        pytest.skip("the kernel launcher keeps capabilities only when the grader runs as root")
    done = run_inside("grep CapEff /proc/self/status", keep_caps=jail.LAUNCHER_CAPS)
    effective = int(done.stdout.split()[1], 16)
    cap_sys_admin, cap_setuid, cap_dac_read_search = 21, 7, 2
    assert not effective >> cap_sys_admin & 1
    assert effective >> cap_setuid & 1 and effective >> cap_dac_read_search & 1


def test_cgroups_cap_processes_and_memory() -> None:
    if set(jail.Cgroup.CONTROLLERS) - set(jail.Cgroup.available()):
        assert "rlimits only" in jail.describe() or "cgroup" in jail.describe()
        pytest.skip("this machine lets us make no pids and memory cgroups: rlimits only")
    cgroup = jail.Cgroup.create(max_pids=8, memory_bytes=96 * 1024 * 1024)
    try:
        forks = cgroup.wrap(
            jail.bwrap_command(["/bin/sh", "-c", "for i in $(seq 20); do sleep 2 & done; wait"])
        )
        done = subprocess.run(forks, capture_output=True, text=True, timeout=60)
        assert "fork" in done.stderr.lower()  # "Cannot fork" once 8 tasks run
        hog = cgroup.wrap(
            jail.bwrap_command([sys.executable, "-s", "-c", "x = b'x' * (400 * 1024 * 1024)"])
        )
        done = subprocess.run(hog, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0  # killed by the memory cgroup (or out of memory)
    finally:
        cgroup.remove()
    assert not any(folder.exists() for folder in cgroup.folders)


def test_outer_pid_translates_a_pid_of_the_sandbox() -> None:
    inside = subprocess.Popen(
        jail.bwrap_command(["/bin/sh", "-c", "sleep 30 & echo $!; wait"]),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        inner = int(inside.stdout.readline())
        member = jail.child_pids(inside.pid)[0]
        outer = jail.outer_pid(member, inner)
        assert outer is not None and outer != inner
        # `echo $!` can run before the forked shell has exec'd sleep: wait for the exec
        deadline = time.monotonic() + 10
        while not Path(f"/proc/{outer}/cmdline").read_bytes().startswith(b"sleep"):
            assert time.monotonic() < deadline, "the sandboxed sleep never started"
            time.sleep(0.05)
    finally:
        inside.kill()
        inside.wait()


def test_missing_libseccomp_fails_closed() -> None:
    """Without pyseccomp (or libseccomp2) the verdict sandbox could not install its filter."""
    hide = "import sys; sys.modules['pyseccomp'] = None\n"
    probe = (
        "from coursekit import jail\n"
        "try:\n    jail.check()\nexcept jail.SandboxUnavailable as e:\n    print(e)"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide + probe], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.startswith("no seccomp filter:"), done.stdout + done.stderr
    assert "libseccomp2" in done.stdout


def test_cgroups_left_by_ended_processes_are_swept() -> None:
    if not jail.Cgroup.available():
        pytest.skip("this machine lets us make no cgroups: rlimits only")
    ended = subprocess.Popen(["true"])
    ended.wait()
    own = jail._own_cgroup(jail.Cgroup.available()[0])
    assert own is not None
    left, ours = own / f"coursekit-{ended.pid}-0", own / f"coursekit-{os.getpid()}-999"
    left.mkdir()
    ours.mkdir()
    try:
        jail._sweep(own)
        assert not left.exists() and ours.exists()  # a live process keeps its cgroups
    finally:
        for folder in (left, ours):
            if folder.exists():
                folder.rmdir()


def test_readable_paths_under_tmp_stay_visible(tmp_path: Path) -> None:
    """The sandbox's /tmp is private, but a readable or writable folder that lives under /tmp
    (a checkout and venv in a CI folder, pytest's tmp_path) is bound on top of it."""
    assert str(tmp_path).startswith("/tmp/")
    shared = tmp_path / "readable"
    shared.mkdir()
    (shared / "note.txt").write_text("visible")
    work = tmp_path / "work"
    work.mkdir()
    command = jail.bwrap_command(
        ["/bin/sh", "-c", f"cat {shared}/note.txt && touch {work}/out && ls /tmp"],
        readable=[str(shared)],
        cwd=str(work),
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("visible")
    assert (work / "out").exists()


LIFELINE_OWNER = """import os, signal, subprocess, sys, time
from coursekit import jail

line = jail.lifeline()
assert jail.lifeline() == line  # one per process
watcher = subprocess.Popen(
    [sys.executable, "-c", WATCHER, str(line), sys.argv[1]], pass_fds=(line,)
)
child = os.fork()  # a forked child closes the lifeline it inherited: it does not keep it open
if child == 0:
    time.sleep(60)
    os._exit(0)
with open(sys.argv[1] + ".child", "w") as out:
    out.write(str(child))
time.sleep(0.5)
with open(sys.argv[1] + ".alive", "w") as out:
    out.write("watcher saw nothing yet" if watcher.poll() is None else "watcher ended early")
os.kill(os.getpid(), signal.SIGKILL)
"""

WATCHER = """import os, select, sys
ready, _, _ = select.select([int(sys.argv[1])], [], [], 30)
with open(sys.argv[2] + ".tmp", "w") as out:
    out.write("end-of-file" if ready and not os.read(int(sys.argv[1]), 1) else "timed out")
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
"""


def test_a_lifeline_reads_its_end_once_its_process_is_killed(tmp_path: Path) -> None:
    """What a kernel launcher watches (``jail.lifeline``): the read end stays quiet while the
    process that made it lives, and reads end-of-file once it is killed outright, although a
    child it forked lives on."""
    seen = tmp_path / "seen"
    owner = LIFELINE_OWNER.replace("WATCHER", repr(WATCHER))
    done = subprocess.run([sys.executable, "-c", owner, str(seen)], timeout=60)
    child = int(Path(f"{seen}.child").read_text())
    try:
        assert done.returncode == -9
        assert Path(f"{seen}.alive").read_text() == "watcher saw nothing yet"
        deadline = time.monotonic() + 30
        while not seen.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert seen.read_text() == "end-of-file"
        os.kill(child, 0)  # the forked child still lives
    finally:
        try:
            os.kill(child, 9)
        except ProcessLookupError:
            pass
