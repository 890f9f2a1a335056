"""nbgrader preprocessors that put the trusted verdicts into nbgrader's own pipeline.

The pipelines are data: ``AUTOGRADE_SANITIZE``, ``AUTOGRADE`` and ``FEEDBACK`` below are the
exact lists ``nbgrader_config.py`` installs. Compared with nbgrader 0.9.6's defaults:

- ``RestoreCellMetadata`` (sanitize, before ``OverwriteCells``): resets every cell's nbgrader
  flags from the gradebook's master copy, drops metadata that claims unknown grade ids, so a
  student cannot turn their answer cell into a test cell or vice versa. ``OverwriteCells`` then
  restores test-cell sources. A test cell that was deleted (or whose metadata was removed) is
  re-added at the end by ``TrustedVerdicts``, with its verdict.
- ``SafeExecute`` replaces ``Execute``: same execution, but a kernel that dies (``os._exit``,
  ``exit()``, a crash) or stops answering does not abort grading; the notebook keeps the outputs
  it got, and the verdicts below do not depend on them anyway.
- ``StartVerdicts`` (first) starts grading the notebook out of process in a background thread
  (``coursekit.verdicts.grader``), so the sandbox runs while the kernel executes the notebook.
  The sandbox keeps the kernel's time limit (``Execute.timeout``, which ``course grade
  --timeout`` sets): code that does not finish costs it once. ``SafeExecute`` tells the sandbox
  which cell the kernel timed out on.
- ``TrustedVerdicts`` (after ``LimitOutput``, before ``SaveAutoGrades``): collects the verdicts
  and REPLACES the outputs of every graded test cell
  with the verdict: a short stdout line when passed, one error output carrying only the message
  when failed. ``SaveAutoGrades`` scores from those outputs, so in-kernel tampering, fake prints,
  and warnings on stderr cannot change a score.
- ``FlagReviews`` (right after ``SaveAutoGrades``): a verdict with review evidence (static
  analysis saw something the runtime traps did not confirm) keeps its automatic score, shows a
  non-accusing note in the cell, and its grade is flagged ``needs_manual_grade`` in the gradebook.
- ``HideHiddenTests`` (feedback, first): removes hidden-test regions from the feedback and cuts
  tracebacks of graded cells down to their message.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets import Bool, Unicode

__all__ = [
    "AUTOGRADE",
    "AUTOGRADE_SANITIZE",
    "FEEDBACK",
    "FlagReviews",
    "HideHiddenTests",
    "RestoreCellMetadata",
    "SafeExecute",
    "StartVerdicts",
    "TrustedVerdicts",
]


def _source_cells(resources: ResourcesDict):
    """The gradebook's master copy of the notebook: (source cells, grade ids, solution ids)."""
    meta = resources["nbgrader"]
    with Gradebook(meta["db_url"]) as gb:
        notebook = gb.find_notebook(meta["notebook"], meta["assignment"])
        sources = {
            c.name: {"source": c.source, "locked": c.locked, "cell_type": c.cell_type}
            for c in notebook.source_cells
        }
        grades = {c.name: float(c.max_score) for c in notebook.grade_cells}
        solutions = {c.name for c in notebook.solution_cells}
        tasks = {c.name for c in notebook.task_cells}
    return sources, grades, solutions, tasks


class RestoreCellMetadata(NbGraderPreprocessor):
    """Reset nbgrader flags from the gradebook; strip metadata that claims unknown ids."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        sources, grades, solutions, tasks = _source_cells(resources)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id")
            if grade_id not in sources:
                del cell.metadata["nbgrader"]
                continue
            meta["grade"] = grade_id in grades
            meta["solution"] = grade_id in solutions
            meta["locked"] = bool(sources[grade_id]["locked"])
            if grade_id in tasks:
                meta["task"] = True
            else:
                meta.pop("task", None)
            if grade_id in grades:
                meta["points"] = grades[grade_id]
            else:
                meta.pop("points", None)
        return nb, resources


SELF_CHECK_TAG = "self-check"  # the tag of each problem set's read-only check(...) cell


class SafeExecute(Execute):
    """``Execute`` that survives a dead or unresponsive kernel (the verdicts don't need it), and
    starts the kernel inside the bubblewrap sandbox (``coursekit.jail``).

    It fails closed: if the sandbox cannot be made, every notebook fails to autograde with a
    one-line reason, unless ``SafeExecute.unsafe_no_sandbox = True`` (then the kernel and the
    verdict sandbox run unconfined, and the log says so for every notebook).
    """

    # The last cell of every problem set runs the student's self-check (``fromscratch.check``):
    # useful in JupyterLab and in Validate, but its output decides nothing here (the verdicts
    # come from the sandbox), so autograding skips it (~0.7 s of kernel time per submission).
    skip_cells_with_tag = Unicode(
        SELF_CHECK_TAG, help="Cells with this tag are not executed when autograding."
    ).tag(config=True)

    unsafe_no_sandbox = Bool(
        False,
        help="Grade even where the bubblewrap sandbox cannot be made: student code then runs "
        "unconfined and can read and change the course. Leave off except to debug.",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        from coursekit import jail

        kwargs.setdefault("kernel_manager_class", jail.JailedKernelManager)
        super().__init__(*args, **kwargs)
        if self.unsafe_no_sandbox:  # before StartVerdicts starts the verdict sandbox
            os.environ[jail.UNSAFE_VARIABLE] = "1"

    def _require_sandbox(self) -> None:
        from coursekit import jail

        if jail.unsafe():
            self.log.warning("%s", jail.unconfined_warning())
            return
        try:
            jail.check()
        except jail.SandboxUnavailable as error:
            raise jail.SandboxUnavailable(
                f"the grading sandbox could not be made ({error}): {jail.INSTALL_HINT}, or set "
                "c.SafeExecute.unsafe_no_sandbox = True to grade unconfined"
            ) from None

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        content = kwargs["execute_reply"]["content"]
        if content.get("status") == "error" and content.get("ename") == "CellTimeoutError":
            job = (getattr(self, "resources", None) or {}).get(_KEY)
            if job is not None:  # the sandbox need not wait on this cell again
                job["kernel_timeouts"].add(_cell_source(kwargs["cell"]))
            # a cell that timed out usually means a broken kernel (e.g. patched builtins):
            # waiting `timeout` seconds for every later cell would only slow grading down
            raise TimeoutError("a cell did not finish within the time limit")

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict = None, km=None):
        self._require_sandbox()
        try:
            return self._preprocess(nb, resources, km)
        finally:
            import shutil

            from coursekit.jail import PRIVATE_FOLDERS

            while PRIVATE_FOLDERS:  # a dead kernel skips its manager's cleanup
                shutil.rmtree(PRIVATE_FOLDERS.pop(), ignore_errors=True)

    def _preprocess(self, nb: NotebookNode, resources: ResourcesDict, km):
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception as exc:  # noqa: BLE001  (DeadKernelError, timeouts, zmq errors, ...)
            self.log.warning(
                "The kernel stopped while executing the notebook (%s: %s); grading continues "
                "with the outputs produced so far.",
                type(exc).__name__,
                exc,
            )
            note = {
                "output_type": "stream",
                "name": "stdout",
                "text": f"[grader] the kernel stopped before this cell ({type(exc).__name__}); "
                "this cell and the ones after it were not run in the kernel.\n",
            }
            for cell in nb.cells:
                if cell.cell_type == "code" and cell.get("execution_count") is None:
                    cell.setdefault("outputs", []).append(from_dict(note))
                    break
            return nb, resources


_KEY = "coursekit_verdicts"  # resources key: the grading job started by StartVerdicts


def execute_limit(config) -> float | None:  # noqa: ANN001  (a traitlets Config)
    """The kernel's time limit per cell: ``SafeExecute.timeout`` or ``Execute.timeout`` from the
    config (``course grade --timeout`` sets the latter), else nbgrader's default; ``None`` if it
    is configured off, or if ``StartVerdicts.own_limits`` is set."""
    if config.get("StartVerdicts", {}).get("own_limits") is True:
        return None
    for section in ("SafeExecute", "Execute"):
        if section in config and "timeout" in config[section]:
            value = config[section]["timeout"]
            if value is None or (isinstance(value, int) and value <= 0):
                return None  # nbclient: no limit
            return float(value)
    return float(Execute.timeout.default_value)


def _cell_source(cell: NotebookNode) -> str:
    """A code cell's source as ``student_cells`` hands it to the sandbox."""
    from coursekit.verdicts.grader import neutralise_ipython

    source = cell.get("source", "")
    return neutralise_ipython("".join(source) if isinstance(source, list) else source)


def _kernel_timeouts(nb: NotebookNode) -> set[str]:
    """Sources of the code cells whose outputs show that the kernel timed out on them."""
    return {
        _cell_source(cell)
        for cell in nb.cells
        if cell.cell_type == "code"
        and any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
    }


def _start_job(
    nb: NotebookNode, resources: ResourcesDict, log, limit: float | None, kernel_timeouts: set
) -> dict | None:
    """Extract the student's cells and start grading them in a background thread."""
    from coursekit.problemsets import load
    from coursekit.verdicts.grader import grade_cells, student_cells

    assignment_id = resources["nbgrader"]["assignment"]
    try:
        problemset = load(assignment_id)
    except ValueError as exc:
        log.warning("No trusted grader for %s (%s); plain nbgrader grades it.", assignment_id, exc)
        return None
    sources, grades, _, _ = _source_cells(resources)
    locked_ids = {name for name, c in sources.items() if c["locked"]}
    locked_sources = {c["source"].strip() for c in sources.values() if c["locked"]}
    locked_sources.discard("")
    graded_ids = set(grades)
    cells = student_cells(nb.cells, locked_ids, locked_sources, problemset.FUNCTIONS, graded_ids)
    seed = _seed(cells, resources, log)
    events: list[dict] = []
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coursekit-grader")
    future = pool.submit(grade_cells, cells, problemset, seed, limit, events, kernel_timeouts)
    pool.shutdown(wait=False)
    return {"future": future, "sources": sources, "grades": grades, "id": assignment_id,
            "events": events, "kernel_timeouts": kernel_timeouts, "limit": limit}  # fmt: skip


def _seed(cells: list[str], resources: ResourcesDict, log) -> int:
    """The submission's hidden-input seed (``coursekit.verdicts.seeds``), recorded in the
    gradebook; a failed write is logged, since the seed can always be derived again."""
    from coursekit.verdicts import seeds

    meta = resources["nbgrader"]
    assignment, student = meta["assignment"], str(meta.get("student", ""))
    digest = seeds.submission_hash(cells)
    seed = seeds.seed_for(assignment, student, digest)
    try:
        seeds.record(meta["db_url"], assignment, student, digest, seed)
    except Exception as exc:  # noqa: BLE001  (a locked gradebook must not stop grading)
        log.warning("Could not record the seed of %s in the gradebook: %s", student, exc)
    return seed


class StartVerdicts(NbGraderPreprocessor):
    """Start the out-of-process grading BEFORE the kernel runs, so that both overlap.

    The cells it grades are those of the sanitized notebook, i.e. exactly what the kernel is
    about to execute. ``TrustedVerdicts`` collects the result after execution.
    """

    own_limits = Bool(
        False,
        help="Let the sandbox keep its own limits (30 s per cell, each set's timeout per call, "
        "every time-out waited in full) instead of the kernel's Execute.timeout: how grading "
        "worked before issue 12, kept so that benchmarks/bench_grading.py --course bad can "
        "measure both in one run.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        resources[_KEY] = _start_job(nb, resources, self.log, execute_limit(self.config), set())
        return nb, resources


class TrustedVerdicts(NbGraderPreprocessor):
    """Write each trusted verdict into its graded test cell's outputs (grading if not started)."""

    passed_prefix = Unicode("✔ ", help="Printed before the description of a passed part.").tag(
        config=True
    )
    review_note = Unicode(
        "your instructor will also look at this part (the score above comes from your results "
        "and this note does not lower it), because the grader could not observe everything",
        help="Student-facing words before the review evidence of a part.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        if _KEY in resources:
            job = resources.pop(_KEY, None)
        else:  # not started before execution: the outputs show where the kernel timed out
            limit = execute_limit(self.config)
            job = _start_job(nb, resources, self.log, limit, _kernel_timeouts(nb))
        if job is None:
            return nb, resources
        verdicts = job["future"].result()
        self._log_waits(job)
        by_id = {v.grade_id: v for v in verdicts}
        present = set()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in by_id and utils.is_grade(cell) and cell.cell_type == "code":
                cell.outputs = self._outputs(by_id[grade_id])
                present.add(grade_id)
        for grade_id in by_id.keys() - present:
            cell = self._restored_cell(grade_id, job["sources"], job["grades"], by_id[grade_id])
            nb.cells.append(cell)
        resources[REVIEW_KEY] = {v.grade_id: v.review for v in verdicts if v.review}
        score = sum(v.score for v in verdicts)
        total = sum(v.points for v in verdicts)
        self.log.info("Trusted verdicts for %s: %g / %g", job["id"], score, total)
        return nb, resources

    def _log_waits(self, job: dict) -> None:
        """One log line per wait on student code that timed out or was skipped, and a count."""
        events = job["events"]
        for event in events:
            if event["op"] == "skip" or event.get("outcome") == "timeout":
                where = (
                    f"cell {event['cell'] + 1} statement {event['stmt']}"
                    if "cell" in event
                    else f"call of {event['function']}"
                )
                what = f"skipped: {event['reason']}" if event["op"] == "skip" else "timed out"
                waited = f" after {event['timeout']:.1f} s" if "timeout" in event else ""
                self.log.info("Sandbox: %s %s%s", where, what, waited)
            elif event["op"] == "kernel_timeout":
                self.log.info("Sandbox: the kernel timed out on cell %d", event["cell"] + 1)
        waits = [e for e in events if e["op"] in ("exec", "call")]
        self.log.info(
            "Sandbox waits on student code for %s: %d (%d timed out, %d skipped; limit %s s)",
            job["id"],
            len(waits),
            sum(e.get("outcome") == "timeout" for e in waits),
            sum(e["op"] == "skip" for e in events),
            "none" if job["limit"] is None else f"{job['limit']:g}",
        )

    def _outputs(self, verdict) -> list:
        note = []
        if verdict.review:
            text = f"{REVIEW_MARKER} {self.review_note}: {verdict.review}.\n"
            note = [from_dict({"output_type": "stream", "name": "stdout", "text": text})]
        return self._score_outputs(verdict) + note

    def _score_outputs(self, verdict) -> list:
        if verdict.passed:
            text = verdict.message.removeprefix("passed: ")
            return [from_dict({"output_type": "stream", "name": "stdout",
                               "text": f"{self.passed_prefix}passed: {text}\n"})]  # fmt: skip
        if verdict.score > 0:
            return [
                from_dict({"output_type": "stream", "name": "stdout",
                           "text": f"partial credit: {verdict.message}\n"}),
                from_dict({"output_type": "execute_result", "execution_count": None,
                           "metadata": {}, "data": {"text/plain": repr(verdict.score)}}),
            ]  # fmt: skip
        return [
            from_dict(
                {
                    "output_type": "error",
                    "ename": "GradingFailure",
                    "evalue": verdict.message,
                    "traceback": [f"GradingFailure: {verdict.message}"],
                }
            )
        ]

    def _restored_cell(self, grade_id, sources, grades, verdict) -> NotebookNode:
        cell = from_dict(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"restored-{grade_id}"[:64],
                "metadata": {
                    "deletable": False,
                    "editable": False,
                    "nbgrader": {
                        "grade": True,
                        "grade_id": grade_id,
                        "locked": True,
                        "points": grades.get(grade_id, verdict.points),
                        "solution": False,
                        "schema_version": 3,
                    },
                },
                "source": "# (restored by the grader: this test cell was deleted or its metadata "
                "removed)\n" + sources.get(grade_id, {}).get("source", f"# {grade_id}"),
                "outputs": [],
            }
        )
        cell.outputs = self._outputs(verdict)
        return cell


REVIEW_KEY = "coursekit_review"  # resources key: {grade_id: evidence} set by TrustedVerdicts
REVIEW_MARKER = "[review]"  # starts the review note in a graded cell's outputs (batch.reasons)


class FlagReviews(NbGraderPreprocessor):
    """After ``SaveAutoGrades``: flag each graded cell whose verdict carries review evidence for
    manual grading (``Grade.needs_manual_grade``), keeping its automatic score.

    ``SaveAutoGrades`` clears the flag of every cell it scores; formgrader then lists these
    submissions as needing manual grading, and a manual score, if given, overrides the auto one.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        review = resources.get(REVIEW_KEY) or {}
        if not review:
            return nb, resources
        meta = resources["nbgrader"]
        with Gradebook(meta["db_url"]) as gb:
            for grade_id in review:
                grade = gb.find_grade(
                    grade_id, meta["notebook"], meta["assignment"], meta["student"]
                )
                grade.needs_manual_grade = True
            gb.db.commit()
        self.log.info("Flagged for review: %s", ", ".join(sorted(review)))
        return nb, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback without leaks: drop hidden-test regions and graded-cell tracebacks."""

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    placeholder = Unicode(
        "# (hidden tests: graded by the course's grader; see the result below)"
    ).tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        kept, inside, hidden = [], False, False
        for line in cell.source.split("\n"):
            if self.begin in line:
                inside = hidden = True
            elif self.end in line:
                inside = False
            elif not inside:
                kept.append(line)
        if hidden:
            cell.source = "\n".join(kept).rstrip("\n") + "\n" + self.placeholder
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


AUTOGRADE_SANITIZE = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    RestoreCellMetadata,
    OverwriteCells,
    CheckCellMetadata,
]
AUTOGRADE = [
    StartVerdicts,
    SafeExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    TrustedVerdicts,
    SaveAutoGrades,
    FlagReviews,
    AssignLatePenalties,
    CheckCellMetadata,
]
FEEDBACK = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
