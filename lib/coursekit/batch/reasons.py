"""What went wrong while a submission ran, in one line each, and the status of the row.

Sources, all written by trusted code (student code cannot change a score through them; at worst
it can muddle its own explanation):

* the autograded notebook: nbgrader's ``CellTimeoutError`` outputs, and errors whose type says
  which limit was hit (``MemoryError``, ``BlockingIOError`` from ``fork``, ``SystemExit``, the
  guard's ``PermissionError``, ``File too large``);
* the launcher's events (``limited_kernel``: fork bombs stopped, how the kernel ended) and the
  in-kernel guard's events (writes outside the folder, output over the cap);
* nbgrader's own log, when autograding failed (a dead kernel, an unreadable notebook).

``status`` is ``ok`` (graded, nothing to report), ``review`` (graded on its results, and a person
should look at the parts named in the reason: the trusted verdicts saw something they could not
confirm, see ``coursekit.verdicts.nbgrader_glue.FlagReviews``), ``problem`` (graded as far as
possible, with the reason) or ``error`` (nbgrader could not grade it: every part scores 0).
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

from coursekit.batch.precheck import Finding

# What a dead kernel leaves: nbclient's error, nbgrader's log, or the note that the course's
# SafeExecute (coursekit.verdicts.nbgrader_glue) puts on the first cell it could not run.
KERNEL_STOPPED = "the kernel stopped before this cell"
DEATH_MARKERS = ("DeadKernelError", "Kernel died", "kernel died")
SAFE_EXECUTE_STOP = re.compile(r"The kernel stopped while executing the notebook \((\w+)")
# Which process of a fork bomb meets the limit first, and whether the watchdog or the limit
# stops it, is a race: the reason says only what is certain.
FORK_BOMB = "fork bomb: stopped at the process limit (the extra processes were killed)"
REVIEW_MARKER = "[review]"  # nbgrader_glue.REVIEW_MARKER (not imported: batch stays nbgrader-light)
MEMORY_MARKERS = ("MemoryError", "can't allocate memory", "Cannot allocate memory", "failed to map")


def read_events(folder: Path) -> list[dict]:
    """The launcher's and the guard's events, in order of appearance (bad lines skipped)."""
    events = []
    for name in ("launcher.jsonl", "guard.jsonl"):
        path = folder / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and isinstance(event.get("kind"), str):
                events.append(event)
    return events


def _cell_label(index: int, cell: dict) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"


def notebook_findings(path: Path, timeout: int) -> list[Finding]:
    """Findings from the outputs of an autograded notebook."""
    if not path.exists():
        return []
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    found: dict[str, list[str]] = {}
    reviews: list[Finding] = []
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = str(output.get("text"))
            if output.get("output_type") == "stream" and text.startswith(REVIEW_MARKER):
                reviews.append(_review_finding(index, cell, text))
            if output.get("output_type") == "stream" and KERNEL_STOPPED in text:
                if "Timeout" not in text:  # a time-out is reported as such, from its error
                    found.setdefault("kernel_stopped", []).append(_cell_label(index, cell))
            if output.get("output_type") != "error":
                continue
            kind = _error_kind(output.get("ename", ""), str(output.get("evalue", "")))
            if kind:
                found.setdefault(kind, []).append(_cell_label(index, cell))
    messages = {
        "timeout": f"infinite loop? {{cells}} stopped after the {timeout} s time limit",
        "memory": "memory bomb: {cells} hit the memory limit",
        "fork": FORK_BOMB,
        "exit": "sys.exit() called in {cells}",
        "write_outside": "tried to write outside the submission folder in {cells} (refused)",
        "file_size": "tried to write a file over the size limit in {cells} (refused)",
        "kernel_stopped": "before {cells}",  # completed by kernel_death
    }
    return [
        Finding(kind, messages[kind].format(cells=_join(cells))) for kind, cells in found.items()
    ] + reviews


def _review_finding(index: int, cell: dict, text: str) -> Finding:
    """The finding "review cell 7 (power_method_float64): <evidence>" from a review note."""
    evidence = text.removeprefix(REVIEW_MARKER).strip().rstrip(".")
    evidence = evidence.split("could not observe everything:", 1)[-1].strip()
    return Finding("review", f"review {_cell_label(index, cell)}: {evidence[:300]}")


def _join(items: list[str], limit: int = 2) -> str:
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _error_kind(ename: str, evalue: str) -> str | None:
    text = f"{ename}: {evalue}"
    if ename == "CellTimeoutError":
        return "timeout"
    if any(marker in text for marker in MEMORY_MARKERS):
        return "memory"
    if ename == "BlockingIOError" or "Resource temporarily unavailable" in evalue:
        return "fork"
    if ename == "SystemExit":
        return "exit"
    if "writing outside the submission folder" in evalue:
        return "write_outside"
    if "File too large" in evalue:
        return "file_size"
    return None


def event_findings(events: list[dict], notebook_kinds: set[str]) -> list[Finding]:
    """Findings from the launcher's and the guard's events."""
    findings = []
    kinds = [e["kind"] for e in events]
    if ("fork_limit" in kinds or "fork_failed" in kinds) and "fork" not in notebook_kinds:
        findings.append(Finding("fork", FORK_BOMB))
    if "memory_limit" in kinds:
        findings.append(Finding("memory", "memory bomb: child processes used too much memory"))
    if "kernel_stopped" in kinds:
        findings.append(Finding("kernel_stopped", "the kernel was stopped: it kept hitting limits"))
    if "output_limit" in kinds:
        cap = next(e.get("cap_mb") for e in events if e["kind"] == "output_limit")
        findings.append(Finding("output", f"gigantic output: over {cap} MB in one cell, cut"))
    if "write_outside" in kinds and "write_outside" not in notebook_kinds:
        paths = [e.get("path", "?") for e in events if e["kind"] == "write_outside"]
        message = f"tried to write outside the submission folder: {_join(paths)} (refused)"
        findings.append(Finding("write_outside", message))
    return findings


def kernel_death(
    events: list[dict], log: str, where: str = "while running the notebook", graded: bool = False
) -> Finding | None:
    """How the kernel died, if it did (the launcher's exit event, nbgrader's log)."""
    stops = [name for name in SAFE_EXECUTE_STOP.findall(log) if "Timeout" not in name]
    died = (
        any(m in log for m in DEATH_MARKERS) or bool(stops) or where != "while running the notebook"
    )
    exits = [e for e in events if e["kind"] == "exit"]
    if not died and not (exits and "Traceback" in log):
        return None
    how = "the kernel died"
    if exits:
        last = exits[-1]
        if last.get("signal"):
            name = signal.Signals(last["signal"]).name
            how = f"the kernel crashed ({name})" if name != "SIGKILL" else "the kernel was killed"
        elif last.get("code") is not None:
            how = f"the kernel exited with code {last['code']} (os._exit(), exit() or a crash)"
    if "kernel_stopped" in [e["kind"] for e in events]:
        how = "the kernel was stopped for hitting its limits for seconds on end"
    return Finding("kernel_died", f"{how} {where}", fatal=not graded)


def failure_finding(log: str, findings: list[Finding]) -> Finding:
    """A one-line reason for an autograde failure nothing else explained."""
    duplicated = [f for f in findings if f.kind == "duplicated_cells"]
    if duplicated and "old version" in log:
        # nbgrader's DeduplicateIds empties the metadata of the earlier copies, and its metadata
        # check then rejects the notebook as "an old version" of the format.
        cells = duplicated[0].message.split(":")[0].removeprefix("duplicated cell ")
        message = f"duplicated cell {cells}: nbgrader rejects a notebook with a repeated grade id"
        return Finding("duplicated_cells", message, True)
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line.startswith("[ERROR]") and "Traceback" not in line and "see the" not in line:
            message = line.removeprefix("[ERROR]").strip()
            if message and not message.startswith("There was an error processing"):
                return Finding(
                    "nbgrader_error", f"nbgrader could not grade it: {message[:200]}", True
                )
    for line in reversed(log.splitlines()):
        if line and not line.startswith(" ") and ("Error" in line or "Exception" in line):
            return Finding(
                "nbgrader_error", f"nbgrader could not grade it: {line.strip()[:200]}", True
            )
    return Finding("nbgrader_error", "nbgrader could not grade it (see the grading log)", True)


def with_effect(finding: Finding, record: dict | None) -> Finding:
    """Add to a deleted-cell finding what grading made of those cells (from the gradebook)."""
    submission = (record or {}).get("submission")
    if not finding.cells or not submission:
        return finding
    scores = [
        grades[cell]["auto_score"]
        for notebook in submission["notebooks"].values()
        for grades in [notebook["grades"]]
        for cell in finding.cells
        if cell in grades
    ]
    if not scores:
        return finding
    if all(score is None for score in scores):
        effect = "not graded, scored 0"
    elif all(score is not None for score in scores):
        effect = "restored from the master copy and graded"
    else:
        effect = "partly graded"
    return Finding(finding.kind, f"{finding.message}: {effect}", finding.fatal, finding.cells)


def summarize(findings: list[Finding], graded: bool) -> tuple[str, str]:
    """``(status, reason)`` of a row: the reason joins the findings, most serious first."""
    if not findings and graded:
        return "ok", ""
    ordered = sorted(findings, key=lambda f: not f.fatal)
    first_of_kind: dict[str, Finding] = {}
    for finding in ordered:  # one message per kind (the fatal one when there is one)...
        if finding.kind != "review":
            first_of_kind.setdefault(finding.kind, finding)
    reviews = [f for f in ordered if f.kind == "review"]  # ...except reviews: one per part
    unique = list(dict.fromkeys(f.message for f in [*reviews, *first_of_kind.values()]))
    reason = "; ".join(unique) if unique else "nbgrader could not grade it"
    if not graded:
        reason += " (scored 0)" if "scored 0" not in reason else ""
        return "error", reason
    return ("review" if reviews else "problem"), reason
