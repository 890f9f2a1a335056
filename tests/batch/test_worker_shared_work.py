"""Work a grading worker does once, not once per student or per worker: the feedback page's
templates compiled once per worker, and the problem set (torch) imported once by the parent
that forks the workers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import jinja2
import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from coursekit.batch import feedback_html


def a_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x = torch.ones(2)\nx.sum()", execution_count=1)
    code.outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "tensor(2.)"}, execution_count=1),
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\nSome $x^2$ math."), code]
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source while the test runs."""
    seen: list[str] = []
    compile_source = jinja2.Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001
        seen.append(str(name))
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return seen


def test_feedback_templates_are_compiled_once_per_process_and_the_page_is_the_same(
    compiles: list[str],
) -> None:
    feedback_html.COMPILED.clear()
    nb = a_notebook()
    plain = [HTMLExporter().from_notebook_node(nb)[0] for _ in range(2)]
    per_exporter = len(compiles)
    assert per_exporter >= 4 and compiles[: per_exporter // 2] == compiles[per_exporter // 2 :]

    compiles.clear()
    first = feedback_html.FeedbackExporter().from_notebook_node(nb)[0]
    assert len(compiles) == per_exporter // 2, "the first exporter compiles what it uses"
    compiles.clear()
    again = [feedback_html.FeedbackExporter().from_notebook_node(nb)[0] for _ in range(3)]
    assert compiles == [], f"later exporters compiled {compiles}"

    def same(page: str) -> str:  # a page names a fresh uuid for its widget state
        return "\n".join(line for line in page.splitlines() if "uuid" not in line)

    assert {same(page) for page in [*plain, first, *again]} == {same(plain[0])}


def test_a_course_that_chose_its_feedback_exporter_keeps_it() -> None:
    config = Config()
    assert feedback_html.install(config)
    assert config.GenerateFeedback.exporter_class is feedback_html.FeedbackExporter
    chosen = Config()
    chosen.GenerateFeedback.exporter_class = HTMLExporter
    assert not feedback_html.install(chosen)
    assert chosen.GenerateFeedback.exporter_class is HTMLExporter


PRELOAD = textwrap.dedent(
    """
    import json, os, sys
    from coursekit.batch.worker import Setup, preload

    def setup(assignment, threads):
        return Setup(root=".", assignment_id=assignment, course_id="c", snapshot="", work="w",
                     logs="l", threads=threads)

    out = {"two_threads": preload(setup("ps1_power_method", 2)), "torch": "torch" in sys.modules}
    out["no_problem_set"] = preload(setup("ps0_demo", 1))
    out["one_thread"] = preload(setup("ps1_power_method", 1))
    out["imported"] = [m for m in ("torch", "coursekit.problemsets.ps1_power_method",
                                   "coursekit.verdicts.grader") if m in sys.modules]
    out["threads"] = len(os.listdir("/proc/self/task"))
    out["omp"] = os.environ.get("OMP_NUM_THREADS")
    out["again"] = preload(setup("ps1_power_method", 1))
    pid = os.fork()  # a worker: torch works in it, on one thread
    if pid == 0:
        import torch
        a = torch.ones(300, 300, dtype=torch.float64)
        ok = torch.get_num_threads() == 1 and float((a @ a)[0, 0]) == 300.0
        os._exit(0 if ok else 1)
    out["child"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print(json.dumps(out))
    """
)


def test_the_parent_imports_the_problem_set_once_for_its_workers_and_stays_one_thread() -> None:
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "2"}  # what `make test` exports
    done = subprocess.run(
        [sys.executable, "-c", PRELOAD], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    # workers of two threads each: nothing imported (torch would start an OpenMP thread)
    assert out["two_threads"] is False and out["torch"] is False
    assert out["no_problem_set"] is False  # plain nbgrader grades ps0_demo: nothing to share
    assert out["one_thread"] is True
    assert out["imported"] == ["torch", "coursekit.problemsets.ps1_power_method",
                               "coursekit.verdicts.grader"]  # fmt: skip
    assert out["threads"] == 1, "the parent must fork with one thread"
    assert out["omp"] == "2", "the parent's own settings are given back"
    assert out["again"] is False  # torch imported already: left alone
    assert out["child"] == 0, "torch did not work on one thread in a forked worker"
