"""A released assignment in a real JupyterLab, as a student works on it.

JupyterLab runs headless on 127.0.0.1 (a free port, a token, a temporary root folder holding a
copy of the released notebook, nbgrader's extensions enabled, no user settings, no news or
update checks). In Debian's Chromium the test opens the notebook, types an answer into the
solution cell, runs all cells, presses nbgrader's Validate button and reads the dialog:
a correct answer validates, a wrong one shows the failure message.

The notebook is assignments/ps1_power_method/ps1_power_method.ipynb (power_method(A, k):
the top eigenvalue of a symmetric PSD matrix by k power iterations).
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
from browser_support import ROOT, watch_page

pytestmark = pytest.mark.browser

RELEASED = ROOT / "assignments" / "ps1_power_method" / "ps1_power_method.ipynb"

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
    assert RELEASED.is_file(), f"{RELEASED} is missing: run `course release ps1_power_method`"
    for name in ("correct", "wrong"):
        (root / name).mkdir(parents=True)
        shutil.copy(RELEASED, root / name / "ps1_power_method.ipynb")
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
    workspace = Path(rel).parent.name or "main"
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


def type_answer(page, code: str) -> None:
    """Replace the solution cell's text with ``code``, typed into its editor."""
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
    index = cells.evaluate_all(
        "cells => cells.findIndex(c => c.textContent.includes('NotImplementedError'))"
    )
    assert index >= 0, "no solution cell (with raise NotImplementedError()) in the notebook"
    editor = cells.nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    # One input event, as a paste: the editor's auto-indent does not re-indent the lines.
    page.keyboard.insert_text(code.rstrip("\n"))
    text = editor.inner_text()
    assert "def power_method" in text and "NotImplementedError" not in text, text


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


def test_a_correct_answer_validates(context, lab, artifacts):
    page, watch = open_notebook(context, lab, "correct/ps1_power_method.ipynb")
    type_answer(page, CORRECT)
    run_all_cells(page)
    classes, text = validate(page)
    page.screenshot(path=str(artifacts / "lab-validate-correct.png"))
    assert "validation-success" in classes, f"the dialog says:\n{text}"
    assert "Success! Your notebook passes all the tests." in text
    assert not watch.external_requests, watch.external_requests


def test_a_wrong_answer_shows_the_failure(context, lab, artifacts):
    page, watch = open_notebook(context, lab, "wrong/ps1_power_method.ipynb")
    type_answer(page, WRONG)
    run_all_cells(page)
    classes, text = validate(page)
    page.screenshot(path=str(artifacts / "lab-validate-wrong.png"))
    assert "validation-failed" in classes, f"the dialog says:\n{text}"
    assert "The following cell failed:" in text
    assert "AssertionError" in text and "power_method(" in text, text
    assert "expected 3.0, got 1.0" in text, text
    assert not watch.external_requests, watch.external_requests
