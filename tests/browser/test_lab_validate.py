"""A released assignment in a real JupyterLab, as a student works on it.

JupyterLab runs headless on 127.0.0.1 (a free port, a token, a temporary root folder holding a
copy of the released notebook, nbgrader's extensions enabled, no user settings, no news or
update checks). In Debian's Chromium the test opens the notebook, types an answer into the
solution cell, runs all cells, presses nbgrader's Validate button and reads the dialog:
a correct answer validates, a wrong one shows the failure message.

The notebooks are the released ps1_power_method (power_method(A, k): the top eigenvalue of a
symmetric PSD matrix by k power iterations) and ch01_tensors (four functions on shapes,
strides and storage offsets), each answered correctly and with a common mistake.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_support import ROOT, type_answer, watch_page

pytestmark = pytest.mark.browser

RELEASED = ROOT / "assignments"

CORRECT = '''def power_method(A, k):
    """The top eigenvalue of a symmetric PSD matrix, by k power iterations."""
    g = torch.Generator().manual_seed(1)
    v = torch.randn(A.shape[0], generator=g, dtype=A.dtype)  # (d,)
    v = v / v.norm()
    for _ in range(k):
        v = A @ v  # (d, d) @ (d,) -> (d,)
        v = v / v.norm()
    return v @ A @ v
'''

# The seed's own mistake: it returns the norm of the normalised iterate, which is always 1.0.
# ps1's graded cells check the number visibly, so Validate reports it with the likely cause.
WRONG = '''def power_method(A, k):
    """Iterates, then returns ||v|| of a normalised vector instead of the eigenvalue."""
    v = torch.ones(A.shape[0], dtype=A.dtype)  # (d,)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return v.norm()
'''

# Chapter 1's set: four functions on shapes, strides and offsets (pure Python).
CH01_CORRECT = {
    "contiguous_strides": """def contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))
""",
    "transpose_view": """def transpose_view(shape, strides, offset, dim0, dim1):
    shape, strides = list(shape), list(strides)
    i, j = dim0 % len(shape), dim1 % len(shape)
    shape[i], shape[j] = shape[j], shape[i]
    strides[i], strides[j] = strides[j], strides[i]
    return tuple(shape), tuple(strides), offset
""",
    "slice_view": """def slice_view(shape, strides, offset, dim, start, stop, step):
    d = dim % len(shape)
    first, last, _ = slice(start, stop, step).indices(shape[d])
    length = max(0, -(-(last - first) // step))
    new_shape = tuple(length if k == d else n for k, n in enumerate(shape))
    new_strides = tuple(s * step if k == d else s for k, s in enumerate(strides))
    return new_shape, new_strides, offset + (first * strides[d] if length else 0)
""",
    "element_offset": """def element_offset(index, strides, offset):
    return offset + sum(i * s for i, s in zip(index, strides))
""",
}
# A common mistake: the position of an element forgets the view's storage offset.
CH01_WRONG = CH01_CORRECT | {
    "element_offset": """def element_offset(index, strides, offset):
    return sum(i * s for i, s in zip(index, strides))
""",
}

# assignment id -> (correct answers, wrong answers, what Validate's dialog must say when wrong)
SETS = {
    "ps1_power_method": (
        {"power_method": CORRECT},
        {"power_method": WRONG},
        ("power_method(", "expected 3.0, got 1.0"),
    ),
    "ch01_tensors": (CH01_CORRECT, CH01_WRONG, ("element_offset(", "offset + 2 * 1 + 1 * 8")),
}

LAB_START_TIMEOUT = 90  # seconds
KERNEL_TIMEOUT_MS = 120_000
VALIDATE_TIMEOUT_MS = 180_000


def lab_environment(base: Path) -> dict[str, str]:
    """Environment for a JupyterLab that sees no user settings and fetches nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    config = base / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env |= {
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "PYTHONHASHSEED": "0",
    }
    return env


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1:<free port>, root = a temp folder with two copies of the notebook."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    for ident in SETS:
        released = RELEASED / ident / f"{ident}.ipynb"
        assert released.is_file(), f"{released} is missing: run `course release {ident}`"
        for name in ("correct", "wrong"):
            (root / ident / name).mkdir(parents=True)
            shutil.copy(released, root / ident / name / f"{ident}.ipynb")
    env = lab_environment(base)
    token = os.urandom(16).hex()
    log = (base / "lab.log").open("w")
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser"]
    command += ["--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0"]
    command += [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    command += [
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI machines run as root
    # cwd = root: nbgrader's validate handler reads nbgrader_config.py from the server's cwd.
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = wait_for_server(Path(env["JUPYTER_RUNTIME_DIR"]), process, base / "lab.log")
        yield {"url": url, "token": token, "root": root, "log": base / "lab.log"}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for_server(runtime: Path, process: subprocess.Popen, log: Path) -> str:
    """The server's base URL, read from the runtime file it writes once it listens."""
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        for info in runtime.glob("jpserver-*.json"):
            try:
                data = json.loads(info.read_text())
            except json.JSONDecodeError:
                continue  # being written
            if data.get("pid") == process.pid:
                return data["url"]
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not start in {LAB_START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def open_notebook(context, lab, rel: str):
    page = context.new_page()
    watch = watch_page(page, lab["url"])
    # A workspace of its own, reset: JupyterLab would otherwise reopen the other test's tabs.
    workspace = "-".join(Path(rel).parent.parts) or "main"
    url = f"{lab['url']}lab/workspaces/{workspace}/tree/{rel}?reset&token={lab['token']}"
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=KERNEL_TIMEOUT_MS)
    wait_for_idle_kernel(page)
    return page, watch


def wait_for_idle_kernel(page) -> None:
    """Wait until the status bar reads "Python 3 (ipykernel) | Idle"."""
    page.wait_for_function(
        "() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent)",
        timeout=KERNEL_TIMEOUT_MS,
    )


def type_answers(page, answers: dict[str, str]) -> None:
    """Type each answer into the solution cell of the function it defines."""
    for name, code in answers.items():
        type_answer(page, name, code)


def run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(
        """() => {
          const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')];
          return prompts.some(p => /\\[\\d+\\]/.test(p.textContent))
              && !prompts.some(p => p.textContent.includes('*'));
        }""",
        timeout=KERNEL_TIMEOUT_MS,
    )
    wait_for_idle_kernel(page)


def validate(page) -> tuple[str, str]:
    """Press nbgrader's Validate button; return the dialog's result class and its text."""
    page.locator(".validate-button").first.click()
    message = page.locator(".jp-Dialog #validation-message")
    message.wait_for(timeout=VALIDATE_TIMEOUT_MS)
    classes = message.get_attribute("class") or ""
    text = message.inner_text()
    return classes, text


@pytest.mark.parametrize("ident", SETS)
def test_a_correct_answer_validates(context, lab, artifacts, ident):
    page, watch = open_notebook(context, lab, f"{ident}/correct/{ident}.ipynb")
    type_answers(page, SETS[ident][0])
    run_all_cells(page)
    classes, text = validate(page)
    page.screenshot(path=str(artifacts / f"lab-validate-{ident}-correct.png"))
    assert "validation-success" in classes, f"the dialog says:\n{text}"
    assert "Success! Your notebook passes all the tests." in text
    assert not watch.external_requests, watch.external_requests


@pytest.mark.parametrize("ident", SETS)
def test_a_wrong_answer_shows_the_failure(context, lab, artifacts, ident):
    page, watch = open_notebook(context, lab, f"{ident}/wrong/{ident}.ipynb")
    type_answers(page, SETS[ident][1])
    run_all_cells(page)
    classes, text = validate(page)
    page.screenshot(path=str(artifacts / f"lab-validate-{ident}-wrong.png"))
    assert "validation-failed" in classes, f"the dialog says:\n{text}"
    assert "The following cell failed:" in text
    assert "AssertionError" in text, text
    for expected in SETS[ident][2]:
        assert expected in text, text
    assert not watch.external_requests, watch.external_requests
