"""The limited grading kernel on its own: limits, sandbox user, guards, watchdog, exit reports.

Each test starts the real kernelspec through jupyter_client, in a folder named like nbgrader's
``autograded/<student>/<id>/`` (the launcher only hands such folders to the sandbox user).
The fork bomb is bounded by construction (at most 2**11 processes, each gone within 3 s), so
it cannot take the machine down even if every limit failed.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import os
import queue
import re
import resource
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import psutil
import pytest
from jupyter_client.manager import start_new_kernel
from pipeline_helpers import (
    GRADE_ARGS,
    build_course,
    copy_course,
    course_cli,
    environment,
    real_course,
    sandbox_processes,
    wait_until,
)

from coursekit.batch import democourse
from coursekit.batch.limits import KERNEL_NAME, Limits, write_kernelspec

LIMITS = Limits(timeout=10, memory_mb=1536, max_procs=16, file_mb=1, output_mb=1)


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A running limited kernel and its events folder; shut down afterwards."""
    monkeypatch.setenv("JUPYTER_PATH", str(write_kernelspec(tmp_path / "jupyter", LIMITS)))
    events = tmp_path / "events"
    events.mkdir(mode=0o700)
    monkeypatch.setenv("COURSEKIT_KERNEL_EVENTS", str(events))
    workdir = tmp_path / "autograded" / "student" / "ps0"
    workdir.mkdir(parents=True)
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, cwd=str(workdir))
    yield manager, client, events, workdir
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def run(client, code: str, timeout: float = 30) -> tuple[str, list[dict]]:  # noqa: ANN001
    """Execute ``code``; (reply status, the output messages' contents)."""
    outputs = []

    def keep(message: dict) -> None:
        if message["msg_type"] in ("stream", "error", "execute_result"):
            outputs.append(message["content"])

    reply = client.execute_interactive(code, timeout=timeout, output_hook=keep)
    return reply["content"]["status"], outputs


def text(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") + o.get("evalue", "") for o in outputs)


def events(folder: Path) -> list[dict]:
    lines = []
    for name in ("launcher.jsonl", "guard.jsonl"):
        path = folder / name
        if path.exists():
            lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def test_limits_and_user(kernel) -> None:  # noqa: ANN001
    _, client, _, workdir = kernel
    status, out = run(
        client,
        "import os, resource\n"
        "limit = lambda name: resource.getrlimit(getattr(resource, name))[0]\n"
        "print(os.getuid(), limit('RLIMIT_AS'), limit('RLIMIT_FSIZE'), limit('RLIMIT_NPROC'),"
        " os.getcwd())",
    )
    assert status == "ok"
    uid, memory, fsize, nproc, cwd = text(out).split()
    assert int(memory) == LIMITS.memory_mb * 1024 * 1024
    assert int(fsize) == LIMITS.file_mb * 1024 * 1024
    assert Path(cwd) == workdir
    if os.geteuid() == 0:  # as root the kernel must not stay root: RLIMIT_NPROC needs a user
        assert int(uid) >= 2_000_000
        assert int(nproc) == LIMITS.max_procs + 64
    else:
        assert int(uid) == os.getuid()
        assert int(nproc) != resource.RLIM_INFINITY


def test_writes_outside_are_refused_and_reported(kernel, tmp_path: Path) -> None:  # noqa: ANN001
    _, client, folder, workdir = kernel
    victim = tmp_path / "victim.txt"
    victim.write_text("intact")
    status, out = run(client, f"open({str(victim)!r}, 'w').write('overwritten')")
    assert status == "error"
    assert "outside the submission folder" in text(out)
    assert victim.read_text() == "intact"
    status, out = run(
        client, "open('inside.txt', 'w').write('fine'); print(open('inside.txt').read())"
    )
    assert (status, text(out).strip()) == ("ok", "fine")
    status, out = run(client, "open('big.bin', 'wb').write(b'x' * (2 * 1024 * 1024))")
    assert status == "error" and "File too large" in text(out)
    paths = [e["path"] for e in events(folder) if e["kind"] == "write_outside"]
    assert paths == [str(victim)]


@pytest.fixture
def grader_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """torch sets TORCHINDUCTOR_CACHE_DIR in the grading process once a trusted check has made a
    torch.optim optimizer (importing torch._dynamo): here, before the kernel starts."""
    outside = tmp_path / "torchinductor_grader"
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(outside))
    return outside


def test_an_optimizer_in_the_kernel_writes_nothing_outside(grader_cache_dir, kernel) -> None:  # noqa: ANN001
    """Making a torch.optim optimizer imports torch._dynamo, which makes its cache folder: the
    kernel's own, never the grading process's (that write would be refused and fail the cell)."""
    _, client, folder, _ = kernel
    status, out = run(
        client,
        "import os, torch\n"
        "p = torch.zeros(2, requires_grad=True)\n"
        "torch.optim.SGD([p], lr=0.1, momentum=0.9)\n"
        "print(os.environ['TORCHINDUCTOR_CACHE_DIR'].startswith(os.environ['TMPDIR']))",
        timeout=60,
    )
    assert (status, text(out).strip()) == ("ok", "True"), text(out)
    assert not [e for e in events(folder) if e["kind"] == "write_outside"]
    assert not grader_cache_dir.exists()


def test_output_is_capped(kernel) -> None:  # noqa: ANN001
    _, client, folder, _ = kernel
    status, out = run(client, democourse.GIGANTIC_OUTPUT)
    assert status == "ok"
    received = sum(len(o.get("text", "")) for o in out)
    assert received < 1.1 * 1024 * 1024  # 60 MB printed, about 1 MB delivered
    assert "output over 1 MB dropped" in text(out)
    assert any(e["kind"] == "output_limit" for e in events(folder))
    status, out = run(client, "print('still talking')")
    assert text(out).strip() == "still talking"


def test_memory_bomb_fails_in_the_cell(kernel) -> None:  # noqa: ANN001
    _, client, _, _ = kernel
    status, out = run(client, democourse.MEMORY_BOMB)
    assert status == "error" and out[-1]["ename"] == "MemoryError"
    status, out = run(client, "del hog; print('alive')")
    assert text(out).strip() == "alive"


def test_bounded_fork_bomb_is_stopped(kernel) -> None:  # noqa: ANN001
    manager, client, folder, _ = kernel
    start = time.monotonic()
    run(client, democourse.FORK_BOMB)
    assert time.monotonic() - start < 20
    assert manager.is_alive()
    status, out = run(client, "print('alive')")
    assert text(out).strip() == "alive"
    kinds = [e["kind"] for e in events(folder)]
    assert "fork_limit" in kinds or os.geteuid() != 0
    assert max((e.get("count", 0) for e in events(folder)), default=0) <= 2 * (
        LIMITS.max_procs + 64
    )


def test_crash_is_reported_and_nothing_is_left_running(kernel) -> None:  # noqa: ANN001
    manager, client, folder, workdir = kernel
    run(client, "import subprocess; subprocess.Popen(['sleep', '300'])")
    client.execute("import ctypes; ctypes.string_at(0)")
    assert wait_until(lambda: not manager.is_alive(), 10)
    with pytest.raises(queue.Empty):  # the kernel died: the request got no reply
        client.get_shell_msg(timeout=0.5)
    exits = [e for e in events(folder) if e["kind"] == "exit"]
    assert exits and exits[-1]["signal"] == 11
    if os.geteuid() == 0:
        assert wait_until(lambda: not sandbox_processes(workdir), 10)


def test_the_kernel_program_needs_nothing_from_the_course() -> None:
    """jupyter_client fills ``{name}`` and ``${name}`` fields of a kernelspec; the course may be
    unreadable to the kernel."""
    from coursekit.batch.limits import BOOTSTRAP, PROGRAM_VARIABLE, kernelspec

    spec = kernelspec(LIMITS)
    assert spec["argv"][1:3] == ["-c", BOOTSTRAP]
    assert spec["argv"][-2:] == ["-f", "{connection_file}"]
    program = spec["env"][PROGRAM_VARIABLE]
    assert not re.search(r"[{}$]", program + BOOTSTRAP.replace("['", "").replace("']", ""))
    source = zlib.decompress(base64.b64decode(program)).decode()
    lines = [line.strip() for line in source.splitlines()]
    imports = [line for line in lines if line.startswith(("import coursekit", "from coursekit"))]
    assert imports == ["from coursekit.batch.kernel_guard import run_guarded_kernel"]  # guarded


KERNEL_PROBE = """import os, socket
try:
    socket.create_connection(("127.0.0.1", int(PORT)), timeout=2).close()
    net = "reached"
except OSError as error:
    net = type(error).__name__
course = os.path.exists(COURSE)
try:
    os.kill(int(PARENT), 0)
    signal = "allowed"
except OSError as error:
    signal = type(error).__name__
print(os.getuid(), os.getpid(), net, course, signal, os.path.exists(CWD_SECRET))"""


def test_starts_inside_the_grading_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's Execute starts kernels in bubblewrap: own pids, no network (ZMQ goes over
    ipc:// files), the course invisible, a sandbox user of its own, pids capped."""
    import socket

    from coursekit import jail

    jail.check()  # fails (not skips) on a machine without bubblewrap: the course needs it
    monkeypatch.delenv(jail.UNSAFE_VARIABLE, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(write_kernelspec(tmp_path / "jupyter", LIMITS)))
    events_dir = tmp_path / "events"
    events_dir.mkdir(mode=0o700)
    monkeypatch.setenv("COURSEKIT_KERNEL_EVENTS", str(events_dir))
    workdir = tmp_path / "autograded" / "student" / "ps0"
    workdir.mkdir(parents=True)
    secret = tmp_path / "gradebook.db"  # beside the course's folders: must not be visible
    secret.write_text("private")
    listener = socket.create_server(("127.0.0.1", 0))  # a TCP service of the grading host
    probe = (
        KERNEL_PROBE.replace("PORT", str(listener.getsockname()[1]))
        .replace("COURSE", repr(str(Path(jail.__file__).resolve())))
        .replace("PARENT", str(os.getpid()))
        .replace("CWD_SECRET", repr(str(secret)))
    )

    async def session() -> tuple[list[tuple[str, str]], str]:
        manager = jail.JailedKernelManager(kernel_name=KERNEL_NAME)
        await manager.start_kernel(cwd=str(workdir))
        transport = manager.transport
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            seen = []
            for code in (probe, democourse.FORK_BOMB, "print('alive')"):
                outputs: list[dict] = []

                def keep(message: dict, into: list = outputs) -> None:
                    if message["msg_type"] in ("stream", "error"):
                        into.append(message["content"])

                reply = await client.execute_interactive(code, timeout=60, output_hook=keep)
                seen.append((reply["content"]["status"], text(outputs)))
            client.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(60)")
            while (await client.get_iopub_msg(timeout=30))["msg_type"] != "stream":
                pass  # the cell is running now
            await manager.interrupt_kernel()  # its own session: by message, not by SIGINT
            while (await client.get_iopub_msg(timeout=20))["msg_type"] != "error":
                pass
            return seen, transport
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    # A fresh thread has no event loop; earlier tests in this process (Playwright's sync API,
    # nbclient) may leave one set on the main thread, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        seen, transport = pool.submit(asyncio.run, session()).result()
    listener.close()
    assert transport == "ipc"
    assert seen[0][0] == "ok", seen[0]
    uid, pid, net, course, signal, secret_seen = seen[0][1].split()
    assert int(pid) < 10  # pid 1 is bubblewrap's init, 2 the launcher, then the kernel
    assert net != "reached"  # no network namespace route to the host's 127.0.0.1
    assert course == "False" and secret_seen == "False"
    assert signal != "allowed"  # our pid does not exist in its namespace
    if os.geteuid() == 0:
        assert int(uid) >= 2_000_000
    assert seen[2] == ("ok", "alive\n")  # a fork bomb does not leave the kernel unusable
    jailed = workdir / ".coursekit-kernel-events"
    assert events(events_dir) and not jailed.exists()  # the events folder is bound in
    assert not list(Path("/sys/fs/cgroup/pids").glob(f"coursekit-{os.getpid()}-*"))


STARTER = """import asyncio, os, signal, sys, time
from coursekit import jail
from coursekit.batch.limits import KERNEL_NAME

async def start():
    manager = jail.JailedKernelManager(kernel_name=KERNEL_NAME)
    await manager.start_kernel(cwd=sys.argv[1])
    time.sleep(float(sys.argv[2]))
    os.kill(os.getpid(), signal.SIGKILL)  # as a grading worker whose `course grade` was killed

asyncio.run(start())
"""


def working_in(folder: Path) -> list[psutil.Process]:
    """Live processes whose working folder is inside ``folder`` (the sandbox's are too)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if Path(proc.cwd()).is_relative_to(folder) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.3, 3.0])
def test_a_kernel_dies_with_the_process_that_started_it(
    delay: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while bubblewrap is still making the sandbox (0 s: before its --die-with-parent
    is armed; 0.02 s: before its pid 1's is), while the launcher starts, or once the kernel
    runs: the sandbox and the kernel go all the same (the launcher watches the lifeline)."""
    from coursekit import jail
    from coursekit.batch.pool import stop_leftovers

    jail.check()
    monkeypatch.delenv(jail.UNSAFE_VARIABLE, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(write_kernelspec(tmp_path / "jupyter", LIMITS)))
    events_dir = tmp_path / "events"
    events_dir.mkdir(mode=0o700)
    monkeypatch.setenv("COURSEKIT_KERNEL_EVENTS", str(events_dir))
    workdir = tmp_path / "autograded" / "student" / "ps0"
    workdir.mkdir(parents=True)
    log = tmp_path / "starter.log"  # not a pipe: what survives it would hold the pipe open
    try:
        with open(log, "w") as out:
            starter = subprocess.run(
                [sys.executable, "-c", STARTER, str(workdir), str(delay)],
                stdout=out,
                stderr=out,
                timeout=120,
            )
        assert starter.returncode == -9, log.read_text()
        assert wait_until(lambda: not working_in(workdir), 20)
    finally:
        stop_leftovers(workdir)


# ----------------------------------------------------------------------------- failing closed


@pytest.fixture(scope="module")
def tiny_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A released demo course with one correct submission (copy before grading)."""
    return build_course(tmp_path_factory.mktemp("tiny") / "course", ["correct_solution"])


def _without_bwrap(root: Path) -> dict[str, str]:
    from coursekit import jail

    env = environment()
    env[jail.BWRAP_VARIABLE] = str(root / "no-bwrap-here")
    env.pop(jail.UNSAFE_VARIABLE, None)
    return env


def test_course_grade_stops_in_one_line_without_the_sandbox(
    tiny_course: Path, tmp_path: Path
) -> None:
    root = copy_course(tiny_course, tmp_path / "course")
    command = [sys.executable, "-m", "coursekit.cli", "grade", democourse.ASSIGNMENT, *GRADE_ARGS]
    env = _without_bwrap(root)
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "bwrap is not installed" in lines[0] and "apt-get install bubblewrap" in lines[0]
    assert "--unsafe-no-sandbox" in lines[0]
    assert not (root / "autograded").exists()

    unsafe = [*command, "--unsafe-no-sandbox"]
    done = subprocess.run(unsafe, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "UNSAFE" in done.stdout and "student code ran in: no sandbox" in done.stdout
    note = root / "reports" / democourse.ASSIGNMENT / "sandbox.txt"
    assert note.read_text() == "student code ran in: no sandbox (--unsafe-no-sandbox)\n"
    assert list((root / "autograded").glob(f"*/{democourse.ASSIGNMENT}/*.ipynb"))


def test_course_grade_says_what_confines_student_code(tiny_course: Path, tmp_path: Path) -> None:
    from coursekit import jail

    root = copy_course(tiny_course, tmp_path / "course")
    done = course_cli(root, "grade", democourse.ASSIGNMENT, *GRADE_ARGS)
    assert done.returncode == 0, done.stderr
    assert f"student code ran in: {jail.describe()}" in done.stdout
    assert "UNSAFE" not in done.stdout + done.stderr


def test_plain_nbgrader_with_the_course_config_fails_closed(tmp_path: Path) -> None:
    """``nbgrader autograde`` with the repository's config (SafeExecute) refuses to run student
    code unconfined, unless ``SafeExecute.unsafe_no_sandbox`` says so."""
    from coursekit import jail

    root = real_course(tmp_path / "course")
    assignment = "ps1_power_method"
    released = course_cli(root, "release", assignment)
    assert released.returncode == 0, released.stderr
    submitted = root / "submitted" / "alice" / assignment
    shutil.copytree(root / "assignments" / assignment, submitted)
    env = _without_bwrap(root)
    nbgrader = [str(Path(sys.executable).with_name("nbgrader")), "autograde", assignment]

    def autograde(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*nbgrader, "--force", *extra],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    done = autograde()
    graded = root / "autograded" / "alice" / assignment / f"{assignment}.ipynb"
    assert not graded.exists()
    assert "the grading sandbox could not be made (bwrap is not installed)" in done.stdout + (
        done.stderr
    )
    assert "c.SafeExecute.unsafe_no_sandbox = True" in done.stdout + done.stderr

    done = autograde("--SafeExecute.unsafe_no_sandbox=True")
    assert graded.exists(), done.stderr[-2000:]
    assert jail.unconfined_warning() in done.stdout + done.stderr
