"""Warm grading kernels (``coursekit.batch.zygote``): forked from a zygote that imported torch.

The kernels here are real: the limited kernelspec, started by ``jail.JailedKernelManager`` in
an nbgrader-like stage folder (``<stage>/autograded/<student>/<id>``), exactly as a grading
worker starts them with ``COURSEKIT_WARM_KERNELS=1``. A kernel forked from the zygote has torch
in ``sys.modules`` before its first cell; a cold one does not, which tells the two apart.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import csv
import json
import os
import shutil
import sys
import zlib
from pathlib import Path

import nbformat
import psutil
import pytest
from pipeline_helpers import GRADE_ARGS, LIMITS, copy_course, course_cli

from coursekit import jail
from coursekit.batch import democourse, gradebook, zygote
from coursekit.batch.limits import KERNEL_NAME, kernel_program, write_kernelspec

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="warm kernels need root (sandbox uids)")

TIMING = ("fork_bomb", "memory_bomb", "infinite_loop", "gigantic_output")
FORKED = "import sys; print('torch' in sys.modules)"  # before any import of the student's

PLANT = r"""import ctypes, json, os, subprocess, torch
planted = 'student A'
torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
torch.add = lambda *args, **kwargs: 'patched'
torch.nn.functional.relu = None
os.environ['PLANTED'] = '1'
open('planted.txt', 'w').write('a')
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0x4242, 4096, 0o1000 | 0o666)  # IPC_CREAT: a System V segment
subprocess.Popen(['sleep', '300'], start_new_session=True)
raw = [libc.open(p.encode(), os.O_WRONLY | os.O_CREAT, 0o666) for p in ('/tmp/p', '/dev/shm/p')]
print(json.dumps([shm >= 0, raw, os.getuid()]))"""

CHECK = r"""import ctypes, json, os, torch
libc = ctypes.CDLL(None, use_errno=True)
def owner(pid):
    try:
        return os.stat(f'/proc/{pid}').st_uid
    except OSError:
        return 0
print(json.dumps({
    'planted': 'planted' in globals(),
    'seed': torch.initial_seed() == 1234,
    'dtype': str(torch.get_default_dtype()),
    'add': torch.add(torch.tensor(1), 1).item(),
    'relu': torch.nn.functional.relu is not None,
    'env': 'PLANTED' in os.environ,
    'files': [p for p in ('planted.txt', '/tmp/p', '/dev/shm/p') if os.path.exists(p)],
    'shm': libc.shmget(0x4242, 0, 0),
    'others': [p for p in os.listdir('/proc') if p.isdigit() and owner(p) not in (0, os.getuid())],
    'stage': sorted(os.listdir('../..')),
    'uid': os.getuid(),
}))"""

SAME = r"""import hashlib, random, sys, numpy as np, torch
torch.manual_seed(0); np.random.seed(0); random.seed(0)
x = torch.randn(64, 64)
y = torch.linalg.inv(x @ x.T + torch.eye(64))
print(torch.get_num_threads(), torch.get_default_dtype(), repr(y.sum().item()),
      hashlib.sha256(y.numpy().tobytes()).hexdigest(), np.random.rand(), random.random(),
      hash('abc'), sys.getrecursionlimit(), sorted(sys.flags.__dict__ if hasattr(sys.flags,
      '__dict__') else []))"""


@pytest.fixture
def stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A worker's environment with warm kernels on; the stage folder. The zygote is stopped."""
    monkeypatch.setenv("JUPYTER_PATH", str(write_kernelspec(tmp_path / "jupyter", LIMITS)))
    monkeypatch.setenv(zygote.WARM_VARIABLE, "1")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the kernel sets it; the zygote starts no pool
    monkeypatch.setenv("MKL_NUM_THREADS", "2")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # OpenBLAS would start its pool at import
    events = tmp_path / "events"
    events.mkdir(mode=0o700)
    monkeypatch.setenv("COURSEKIT_KERNEL_EVENTS", str(events))
    folder = tmp_path / "kernels" / "autograded"
    folder.mkdir(parents=True)
    yield folder
    zygote.close_zygote()


def run_kernels(stage: Path, programs: list[list[str]]) -> list[list[str]]:
    """One kernel per list of cells, one after the other, each alone in the stage as
    ``student<i>/ps0``; the text each cell printed (or its error)."""

    async def one(index: int, cells: list[str]) -> list[str]:
        workdir = stage / f"student{index}" / "ps0"
        workdir.mkdir(parents=True)
        manager = jail.JailedKernelManager(kernel_name=KERNEL_NAME)
        await manager.start_kernel(cwd=str(workdir))
        client = manager.client()
        client.start_channels()
        printed = []
        try:
            await client.wait_for_ready(timeout=120)
            for code in cells:
                out: list[str] = []

                def keep(message: dict, into: list = out) -> None:
                    content = message["content"]
                    if message["msg_type"] in ("stream", "error"):
                        into.append(content.get("text", "") + content.get("evalue", ""))

                await client.execute_interactive(code, timeout=60, output_hook=keep)
                printed.append("".join(out).strip())
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)
        for entry in stage.iterdir():  # as the worker empties its stage
            shutil.rmtree(entry)
        return printed

    async def all_of_them() -> list[list[str]]:
        return [await one(i, cells) for i, cells in enumerate(programs)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, all_of_them()).result()


def test_nothing_survives_from_one_student_to_the_next(stage: Path) -> None:
    first, second = run_kernels(stage, [[FORKED, PLANT], [FORKED, CHECK]])
    assert first[0] == second[0] == "True"  # both forked from the zygote
    created, raw, uid = json.loads(first[1])
    assert created  # the segment existed while student A ran...
    assert raw == [-1, -1]  # ...and /tmp, /dev/shm were not writable
    seen = json.loads(second[1])
    assert seen == {
        "planted": False,
        "seed": False,
        "dtype": "torch.float32",
        "add": 2,
        "relu": True,
        "env": False,
        "files": [],
        "shm": -1,  # ...but not once student B runs
        "others": [],  # student A's sleep is gone
        "stage": ["student1"],  # and so is A's folder
        "uid": seen["uid"],
    }
    assert seen["uid"] != uid >= 2_000_000


def test_the_zygote_is_single_threaded_and_the_kernel_sets_its_threads(stage: Path) -> None:
    (printed,) = run_kernels(stage, [[FORKED, "import torch; print(torch.get_num_threads())"]])
    assert printed == ["True", "2"]  # OMP_NUM_THREADS=2, set in the forked kernel
    warm = zygote.KernelZygote._instance
    assert warm is not None and warm.threads_at_ready == 1
    found = []
    for process in psutil.Process(warm.process.pid).children(recursive=True):
        try:
            line = process.cmdline()
            if line[:2] == [sys.executable, "-c"] and "serve(int(sys.argv[1])" in line[2]:
                found.append(process)
        except psutil.Error:  # a launcher that just ended
            continue
    # The zygote is the one whose parent is not a zygote too: a launcher (its fork, with its
    # command line) may still be ending after the kernel's shutdown.
    pids = {process.pid for process in found}
    roots = [process for process in found if process.ppid() not in pids]
    assert len(roots) == 1 and roots[0].num_threads() == 1  # still one after a fork


def test_a_forked_kernel_computes_what_a_fresh_one_does(
    stage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (warm,) = run_kernels(stage, [[FORKED, SAME]])
    monkeypatch.setenv(zygote.WARM_VARIABLE, "0")
    (cold,) = run_kernels(stage, [[FORKED, SAME]])
    assert (warm[0], cold[0]) == ("True", "False")
    assert warm[1] == cold[1] and warm[1].startswith("2 torch.float32")


def test_a_kernel_not_alone_in_its_stage_starts_cold(stage: Path) -> None:
    (stage / "someone_else").mkdir()
    (printed,) = run_kernels(stage, [[FORKED, "import os; print(sorted(os.listdir('../..')))"]])
    assert printed[0] == "False"  # never forked into a sandbox that shows another student


def test_the_zygote_program_needs_nothing_from_the_course() -> None:
    source = zlib.decompress(base64.b64decode(kernel_program(zygote.ZYGOTE_PROGRAM_FILES)))
    lines = [line.strip() for line in source.decode().splitlines()]
    imports = [line for line in lines if line.startswith(("import coursekit", "from coursekit"))]
    assert imports == [  # each guarded: inlined in the program, they are never run
        "from coursekit.batch.kernel_guard import run_guarded_kernel",
        "from coursekit.batch.limited_kernel import main",
        "from coursekit import jail",  # in KernelZygote, the worker's side
        "from coursekit.batch.limits import kernel_program",
    ]


def test_the_class_grades_the_same_warm(
    graded_class: dict, class_template: Path, tmp_path: Path
) -> None:
    """The e2e class (every bad kind) graded with warm kernels (``graded_class``: the default)
    and again with ``--kernels cold``: the same rows, reasons, gradebook records and notebook
    outputs (but for the kinds that race the time limit), and every warm kernel forked from the
    zygote."""
    cold_root = copy_course(class_template, tmp_path / "course")
    done = course_cli(
        cold_root,
        "grade",
        democourse.ASSIGNMENT,
        "--workers",
        "2",
        "--kernels",
        "cold",
        *GRADE_ARGS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kernels: cold" in done.stdout, done.stdout
    root = graded_class["root"]
    assert "kernels: warm" in graded_class["run"].stdout, graded_class["run"].stdout
    aid = democourse.ASSIGNMENT

    def rows(course: Path) -> dict[str, dict]:
        with open(course / "reports" / aid / "grades.csv", newline="") as f:
            # everything but the seconds it took
            return {r["student"]: r | {"seconds": ""} for r in csv.DictReader(f)}

    warm, cold = rows(root), rows(cold_root)
    # The bombs and the endless loop race the cell's time limit, and a forked kernel has torch
    # in memory (the demo's notebook never imports it): each of a fork bomb's forks copies more,
    # and RLIMIT_AS counts torch's mappings. Under load their reasons may differ; see the README.
    for student in TIMING:
        del warm[student], cold[student]
    assert warm == cold
    for student in warm:
        mine = gradebook.extract_record(
            gradebook.sqlite_url(root / "gradebook.db"), "demo", aid, student
        )
        theirs = gradebook.extract_record(
            gradebook.sqlite_url(cold_root / "gradebook.db"), "demo", aid, student
        )
        assert mine == theirs, student
        path = Path("autograded") / student / aid / f"{aid}.ipynb"
        if (cold_root / path).exists():
            ours = nbformat.read(root / path, as_version=4)
            fresh = nbformat.read(cold_root / path, as_version=4)
            assert [c.get("outputs") for c in ours.cells] == [
                c.get("outputs") for c in fresh.cells
            ], student
    forked = {
        log.stem
        for log in (root / "reports" / aid / "logs").glob("*.log")
        if "1 kernel(s) forked from the warm zygote" in log.read_text()
    }
    never_executed = {"malformed_json", "wrong_file_name", "missing_notebook", "duplicated_cell"}
    assert forked >= set(warm) - never_executed - {"no_submission"}
    cold_logs = (cold_root / "reports" / aid / "logs").glob("*.log")
    assert not any("forked from the warm zygote" in log.read_text() for log in cold_logs)


def test_the_zygote_preloads_torch_dynamo_only_for_assignments_that_use_torch_optim(
    tmp_path: Path,
) -> None:
    """torch._dynamo costs every zygote start 1.3-1.6 s and every kernel that makes a torch.optim
    optimizer as much: the zygote imports it when the assignment's notebooks use torch.optim."""
    solutions = Path(__file__).resolve().parents[2] / "solutions"
    assert zygote.preload_for(solutions / "ch08_optim") == "torch._dynamo"
    assert zygote.preload_for(solutions / "ch01_tensors") == ""
    assert zygote.preload_for(tmp_path / "no such assignment") == ""
    env = {zygote.PRELOAD_VARIABLE: "torch._dynamo,os,subprocess"}  # only known names pass
    assert zygote._extra_preload(env) == ["torch._dynamo"]
