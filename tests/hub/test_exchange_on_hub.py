"""nbgrader's exchange on a real JupyterHub, end to end, on 127.0.0.1.

The hub is JupyterHub with PAM log-in (the machine's accounts), LocalProcessSpawner (each
person's JupyterLab runs as their own system user) and configurable-http-proxy, configured by
hub/jupyterhub_config.py, the example the student edition ships. conftest.py makes the users,
the exchange and the course, and removes them afterwards.

1. The instructor (a system user) regenerates ps1_power_method in their course and releases it
   to the exchange (``course release``, ``nbgrader release_assignment``).
2. In Chromium, each student logs in to the hub, opens the Assignment List, fetches the problem
   set, writes an answer into the solution cell and submits; the first student writes the
   correct answer (the solution's own code, from solutions/) and validates it first, the second
   makes the classic mistake (returns the norm of the normalised iterate, always 1).
3. The exchange's permissions are the machine's: a student can neither list the submissions in
   the exchange nor read the other student's home.
4. The instructor collects (``course collect ID --exchange``), ``course grade ID`` grades (as
   root, as on the course's grading machine: its sandbox needs no user namespaces then, which
   some hosts deny to other users, GitHub's Ubuntu 24.04 runners among them), and the
   instructor releases the feedback (``course release-feedback ID``). Their Formgrader, served
   by their own server on the hub, lists both submissions.
5. Each student fetches their feedback in the Assignment List, opens the feedback HTML and
   reads their score: full marks for the first, less for the second.

Each step's screenshot is written to artifacts/hub/ (01-...png to 10-...png), with the time
each step took (timings.txt) and the hub's log (jupyterhub.log).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from browser_support import type_answer, watch_page
from hub_setup import ASSIGNMENT, INSTRUCTOR, ROOT, STUDENTS, Hub, Machine
from nbconvert import HTMLExporter

pytestmark = pytest.mark.hub

SPAWN_TIMEOUT_MS = 180_000
ACTION_TIMEOUT_MS = 120_000


# The classic mistake (as in tests/browser/test_lab_validate.py): the norm of the normalised
# iterate, which is always 1.
WRONG = '''def power_method(A, k):
    """Iterates, then returns ||v|| of a normalised vector instead of the eigenvalue."""
    v = torch.ones(A.shape[0], dtype=A.dtype)  # (d,)
    for _ in range(k):
        v = A @ v
        v = v / v.norm()
    return v.norm()
'''


def solution_source() -> tuple[str, float]:
    """The solution cell of ps1 as the solution notebook has it, markers removed (what a
    student who solved it would write), and the problem set's total points."""
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    (cell,) = [c for c, m in zip(nb.cells, meta, strict=True) if m.get("solution")]
    lines = [
        line
        for line in cell.source.splitlines()
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    ]
    total = sum(float(m.get("points", 0)) for m in meta if m.get("grade"))
    return "\n".join(lines) + "\n", total


# --- The browser side ------------------------------------------------------------------------


class Shots:
    """Numbered screenshots in artifacts/hub/, and how long each step took (timings.txt)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.started = self.last = time.monotonic()
        self.timings: list[str] = []

    def take(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        self.lap(path.name)
        return path

    def lap(self, what: str) -> None:
        now = time.monotonic()
        self.timings.append(f"{now - self.last:6.1f} s  {what}")
        self.last = now
        (self.folder / "timings.txt").write_text(
            "\n".join([*self.timings, f"{now - self.started:6.1f} s  in all"]) + "\n"
        )


def log_in(context, hub: Hub, name: str, password: str, shots: Shots | None = None):
    """Log in on the hub's page; return the page once the user's JupyterLab is up."""
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    watch = watch_page(page, hub.url)
    page.goto(hub.url + "hub/login", wait_until="domcontentloaded")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    if shots:
        shots.take(page, f"{name}-login")
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=SPAWN_TIMEOUT_MS)
    page.wait_for_selector("#jp-main-dock-panel", timeout=SPAWN_TIMEOUT_MS)
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").wait_for()
    # The example config's promise: JupyterLab's news feed is off (no request to the internet).
    news = page.evaluate(
        "JSON.parse(document.getElementById('jupyter-config-data').textContent).news"
    )
    assert news == {"disabled": True}, news
    return page, watch


def open_assignment_list(page) -> None:
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.get_by_role("menuitem", name="Assignment List").click()
    page.locator("#released_assignments_list, #fetched_assignments_list").first.wait_for()
    wait_for_lists(page)


def wait_for_lists(page) -> None:
    """Until the Assignment List has loaded its three lists."""
    page.wait_for_function(
        """() => ['released', 'fetched', 'submitted'].every(kind => {
             const loading = document.querySelector(`#${kind}_assignments_list_loading`);
             return loading && loading.hidden;
           })"""
    )


def refresh_lists(page) -> None:
    page.locator("#refresh_assignments_list").click()
    wait_for_lists(page)


def list_item(page, kind: str):
    """The row of the problem set in the released, fetched or submitted list."""
    return page.locator(f"#{kind}_assignments_list > .list_item", has_text=ASSIGNMENT)


def fetch(page) -> None:
    list_item(page, "released").get_by_role("button", name="Fetch").click()
    list_item(page, "fetched").wait_for()


def open_fetched_notebook(page) -> None:
    """Open the notebook from the Assignment List (expand the problem set, click its link)."""
    row = list_item(page, "fetched")
    row.locator("a.assignment-notebooks-link").click()
    row.locator(".nested_list_item a", has_text=ASSIGNMENT).click()
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for()
    wait_for_idle_kernel(page)


def wait_for_idle_kernel(page) -> None:
    """Until the status bar reads "Python 3 (ipykernel) | Idle" (the notebook is all there)."""
    page.wait_for_function(
        "() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent)",
        timeout=SPAWN_TIMEOUT_MS,
    )


def answer_and_save(page, code: str) -> None:
    """Type ``code`` into the solution cell of power_method, then save the notebook."""
    type_answer(page, "power_method", code)
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"
        "?.title?.className?.includes?.('jp-mod-dirty')"
        " && !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')"
    )


def validate(page) -> tuple[str, str]:
    """nbgrader's Validate button in the notebook's toolbar; the dialog's class and text."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").first.click()
    message = page.locator(".jp-Dialog #validation-message")
    message.wait_for(timeout=ACTION_TIMEOUT_MS)
    return message.get_attribute("class") or "", message.inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-Dialog-button").last.click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def show_assignment_list(page) -> None:
    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    wait_for_lists(page)


def submit(page) -> str:
    """Submit from the Assignment List; return the submission's timestamp as listed."""
    list_item(page, "fetched").get_by_role("button", name="Submit").click()
    row = list_item(page, "submitted")
    row.wait_for()
    return row.inner_text()


def fetch_feedback(page) -> None:
    """Refresh the list until the feedback is there to fetch, fetch it, wait for the link."""
    refresh_lists(page)
    row = list_item(page, "submitted")
    row.get_by_role("button", name="Fetch Feedback").click()
    row.locator("a", has_text="view feedback").wait_for()


def open_feedback(page) -> str:
    """Follow "(view feedback)" to its folder in the file browser, open the HTML file there;
    return the text of the feedback as JupyterLab's HTML viewer shows it."""
    list_item(page, "submitted").locator("a", has_text="view feedback").click()
    item = page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html")
    item.wait_for()
    item.dblclick()
    frame = page.frame_locator(".jp-MainAreaWidget:not(.lm-mod-hidden) iframe")
    heading = frame.locator("h4", has_text="Score:").first
    heading.wait_for()
    return frame.locator("body").inner_text()


def score_of(feedback: str) -> tuple[float, float]:
    """(score, max score) from the feedback's heading, "ps1_power_method (Score: 8.0 / 8.0)"."""
    match = re.search(rf"{ASSIGNMENT} \(Score: ([\d.]+) / ([\d.]+)\)", feedback)
    assert match, f"no score in the feedback:\n{feedback[:2000]}"
    return float(match.group(1)), float(match.group(2))


# --- The instructor's commands ------------------------------------------------------------------


def course(machine: Machine, *args: str) -> str:
    """``course ARGS`` as the instructor, in their course; its output (it must succeed)."""
    done = machine.as_instructor(str(Path(sys.executable).parent / "course"), *args)
    assert done.returncode == 0, f"course {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def release_to_the_exchange(machine: Machine) -> None:
    course(machine, "release", ASSIGNMENT)
    done = machine.as_instructor(
        str(Path(sys.executable).parent / "nbgrader"), "release_assignment", ASSIGNMENT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outbound = machine.exchange / "pytorch-from-scratch" / "outbound" / ASSIGNMENT
    assert (outbound / f"{ASSIGNMENT}.ipynb").is_file()
    assert outbound.stat().st_uid == machine.instructor.uid


def grade_as_root(machine: Machine) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "course"), "grade", ASSIGNMENT]
        + ["--course", str(machine.course), "--workers", "2", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# --- The test -------------------------------------------------------------------------------


def test_students_submit_on_the_hub_and_read_their_scores(hub_machine, hub, browser, artifacts):
    machine = hub_machine
    shots = Shots(artifacts)
    correct, total = solution_source()
    first, second = STUDENTS
    answers = {first: correct, second: WRONG}

    # 1. The instructor releases the problem set to the exchange.
    release_to_the_exchange(machine)
    shots.lap("the instructor released ps1 to the exchange")

    # 2. Each student, in their own browser session: log in, fetch, answer, submit.
    pages, watches, contexts = {}, {}, []
    for name in STUDENTS:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        account = machine.students[name]
        page, watch = log_in(context, hub, name, account.password, shots if name == first else None)
        pages[name], watches[name] = page, watch
        open_assignment_list(page)
        if name == first:
            shots.take(page, f"{name}-assignment-list")
            menu = page.locator(".lm-MenuBar-item", has_text="Nbgrader")
            menu.click()
            items = page.locator(".lm-Menu-item .lm-Menu-itemLabel").all_inner_texts()
            page.keyboard.press("Escape")
            assert "Formgrader" not in items, f"a student's Nbgrader menu offers {items}"
        fetch(page)
        if name == first:
            shots.take(page, f"{name}-fetched")
        fetched = account.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file() and fetched.stat().st_uid == account.uid
        open_fetched_notebook(page)
        answer_and_save(page, answers[name])
        if name == first:
            classes, text = validate(page)
            shots.take(page, f"{name}-validated")
            assert "validation-success" in classes, f"Validate says:\n{text}"
            close_dialog(page)
        show_assignment_list(page)
        stamp = submit(page)
        assert ASSIGNMENT in stamp
        shots.take(page, f"{name}-submitted")

    # 3. The exchange's permissions are the machine's.
    inbound = machine.exchange / "pytorch-from-scratch" / "inbound"
    submissions = sorted(p.name for p in inbound.iterdir())
    assert [s.split("+")[0] for s in submissions] == sorted(STUDENTS), submissions
    for submission in inbound.iterdir():
        owner = submission.name.split("+")[0]
        assert submission.stat().st_uid == machine.students[owner].uid
    peek = machine.as_student(second, "ls", str(inbound))
    assert peek.returncode != 0 and "Permission denied" in peek.stderr, peek
    peek = machine.as_student(second, "ls", str(machine.students[first].home))
    assert peek.returncode != 0 and "Permission denied" in peek.stderr, peek
    shots.lap("checked the exchange's permissions")

    # 4. The instructor collects, grading grades, the instructor releases the feedback.
    said = course(machine, "collect", ASSIGNMENT, "--exchange")
    assert f"for 2 student(s) into submitted/: {first}, {second}" in said, said
    assert "warning" not in said, said
    for name in STUDENTS:
        assert (machine.course / "submitted" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    again = course(machine, "collect", ASSIGNMENT, "--exchange")
    assert "for 0 student(s)" in again and "--update replaces them" in again, again
    shots.lap("course collect --exchange (twice)")
    grade_as_root(machine)
    shots.lap("course grade")
    said = course(machine, "release-feedback", ASSIGNMENT)
    assert f"for 2 student(s): {first}, {second}" in said, said
    shots.lap("course release-feedback")

    # The instructor's Formgrader, on the hub, lists both submissions. It opens in a browser tab
    # of its own: JupyterHub forbids framing the users' servers (frame-ancestors 'none'), which
    # leaves the Formgrader's JupyterLab tab blank (nbgrader's documented way round it).
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    contexts.append(context)
    page, _ = log_in(context, hub, INSTRUCTOR, machine.instructor.password)
    page.goto(f"{hub.url}user/{INSTRUCTOR}/formgrader", wait_until="domcontentloaded")
    row = page.locator("#main-table tr", has_text=ASSIGNMENT)
    row.wait_for()
    header = page.locator("thead th").all_inner_texts()
    cells = row.locator("td").all_inner_texts()
    shots.take(page, f"{INSTRUCTOR}-formgrader")
    column = next(i for i, h in enumerate(header) if "Submissions" in h)
    assert cells[column].strip() == "2", dict(zip(header, cells, strict=False))

    # 5. Each student fetches their feedback and reads their score.
    scores = {}
    for name in STUDENTS:
        page = pages[name]
        fetch_feedback(page)
        if name == first:
            shots.take(page, f"{name}-feedback-fetched")
        scores[name] = score_of(open_feedback(page))
        shots.take(page, f"{name}-feedback")
    assert scores[first] == (total, total), scores
    assert scores[second][1] == total and scores[second][0] < total, scores

    # Nothing left 127.0.0.1 but nbgrader's feedback HTML asking for MathJax at nbconvert's
    # default CDN address (HTMLExporter.mathjax_url); JupyterLab's HTML viewer runs no script of
    # it anyway (sandboxed), and the browser here is offline (the request is aborted).
    mathjax = HTMLExporter.mathjax_url.default_value
    for name, watch in watches.items():
        offsite = [url for url in watch.external_requests if url != mathjax]
        assert not offsite, f"{name}'s pages reached off 127.0.0.1: {offsite}"
    for context in contexts:
        context.close()
