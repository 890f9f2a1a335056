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
import re
import resource
import time
import zlib
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel
from pipeline_helpers import sandbox_processes, wait_until

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
    with pytest.raises(Exception):  # noqa: B017 - the kernel dies: no reply
        run(client, "import ctypes; ctypes.string_at(0)", timeout=5)
    assert wait_until(lambda: not manager.is_alive(), 10)
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


def test_starts_inside_the_grading_jail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's Execute starts kernels in a Landlock jail that cannot read the course."""
    jail = pytest.importorskip("coursekit.verdicts.jail")
    if jail.landlock_abi() < 1:
        pytest.skip("Landlock is not available on this machine")
    monkeypatch.setenv("JUPYTER_PATH", str(write_kernelspec(tmp_path / "jupyter", LIMITS)))
    events_dir = tmp_path / "events"
    events_dir.mkdir(mode=0o700)
    monkeypatch.setenv("COURSEKIT_KERNEL_EVENTS", str(events_dir))
    workdir = tmp_path / "autograded" / "student" / "ps0"
    workdir.mkdir(parents=True)

    async def session() -> list[tuple[str, str]]:
        manager = jail.JailedKernelManager(kernel_name=KERNEL_NAME)
        await manager.start_kernel(cwd=str(workdir))
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            seen = []
            for code in ("import os; print(os.getuid())", democourse.FORK_BOMB, "print('alive')"):
                outputs: list[dict] = []

                def keep(message: dict, into: list = outputs) -> None:
                    if message["msg_type"] in ("stream", "error"):
                        into.append(message["content"])

                reply = await client.execute_interactive(code, timeout=60, output_hook=keep)
                seen.append((reply["content"]["status"], text(outputs)))
            return seen
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    # A fresh thread has no event loop; earlier tests in this process (Playwright's sync API,
    # nbclient) may leave one set on the main thread, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        seen = pool.submit(asyncio.run, session()).result()
    assert seen[2] == ("ok", "alive\n")  # a fork bomb does not leave the kernel unusable
    if os.geteuid() == 0:
        assert int(seen[0][1]) >= 2_000_000
    jailed = workdir / ".coursekit-kernel-events"  # the jail may not write to the events folder
    assert events(jailed) or events(events_dir)
