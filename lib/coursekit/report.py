"""The instructor's report of one grading run: ``grades.csv`` and ``report.html`` with figures.

``grades.csv`` has one row per student: a column per graded part (nbgrader's score for that
cell: manual over automatic, 0 when neither), the total, the maximum, the status (``ok``,
``review``: graded on its results, a person should look at the parts the reason names,
``problem``: graded as far as possible, ``error``: could not be graded and scores 0,
``missing``: nothing submitted) with its one-line reason, and the grading time in seconds.

``report.html`` shows, as PNG figures with alt text and captions next to it in ``figures/``:
a histogram of the totals, the mean score and pass rate (full points) of each part, the
grading time of each submission, a table of the submissions to review with their evidence, and
a table of the problem submissions with their reasons, and, when ``canvas.csv`` was written
(``coursekit.canvas``), the students it leaves out and why.
Figures are drawn with matplotlib's object API (no pyplot state), so this runs anywhere.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursekit.canvas import CanvasExport

FIGURES = "figures"


def totals(rows: list[dict], parts: dict[str, float]) -> list[float]:
    """Total score of each row, in row order."""
    return [sum(row["scores"].get(p, 0.0) for p in parts) for row in rows]


def write_csv(path: Path, rows: list[dict], parts: dict[str, float]) -> Path:
    """One row per student: parts, total, max, status, reason, seconds."""
    maximum = sum(parts.values())
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["student", *parts, "total", "max", "status", "reason", "seconds"])
        for row, total in zip(rows, totals(rows, parts), strict=True):
            seconds = "" if row["seconds"] is None else f"{row['seconds']:.2f}"
            writer.writerow(
                [
                    row["student"],
                    *(_number(row["scores"].get(p, 0.0)) for p in parts),
                    _number(total),
                    _number(maximum),
                    row["status"],
                    row["reason"],
                    seconds,
                ]
            )
    return path


def _number(value: float) -> str:
    return f"{value:g}"


def part_statistics(rows: list[dict], parts: dict[str, float]) -> dict[str, tuple[float, float]]:
    """``{part: (mean score / max, pass rate)}`` over the students who submitted."""
    submitted = [r for r in rows if r["status"] != "missing"]
    stats = {}
    for part, points in parts.items():
        scores = [r["scores"].get(part, 0.0) for r in submitted]
        if not scores or points <= 0:
            stats[part] = (0.0, 0.0)
            continue
        mean = sum(scores) / len(scores) / points
        passed = sum(s >= points for s in scores) / len(scores)
        stats[part] = (mean, passed)
    return stats


# ----------------------------------------------------------------------------- figures


def warm_up() -> None:
    """Import matplotlib and load its fonts (about a second), e.g. while a core is idle."""
    fig, ax = _figure(1, 1)
    ax.plot([0, 1])
    fig.savefig(io.BytesIO(), format="png")


def _figure(width: float, height: float):  # noqa: ANN202
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def plot_totals(path: Path, values: list[float], maximum: float) -> Path:
    fig, ax = _figure(6.4, 3.6)
    bins = max(1, min(20, int(maximum) + 1)) if maximum > 0 else 10
    ax.hist(values, bins=bins, range=(0, max(maximum, 1e-9)), color="#3b6ea8", edgecolor="white")
    ax.set_xlabel(f"total score (out of {maximum:g})")
    ax.set_ylabel("students")
    ax.set_title("Totals")
    fig.savefig(path, dpi=110)
    return path


def plot_parts(path: Path, stats: dict[str, tuple[float, float]]) -> Path:
    names = list(stats)
    fig, ax = _figure(6.4, 1.0 + 0.45 * max(1, len(names)))
    y = range(len(names))
    means = [100 * stats[n][0] for n in names]
    passes = [100 * stats[n][1] for n in names]
    ax.barh(
        [i + 0.2 for i in y], means, height=0.4, label="mean score (% of points)", color="#3b6ea8"
    )
    ax.barh(
        [i - 0.2 for i in y], passes, height=0.4, label="pass rate (% full points)", color="#e0a030"
    )
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("percent of students who submitted")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("Each graded part")
    fig.savefig(path, dpi=110)
    return path


def plot_times(path: Path, rows: list[dict]) -> Path:
    timed = sorted((r for r in rows if r["seconds"] is not None), key=lambda r: r["seconds"])
    fig, ax = _figure(6.4, 3.6)
    seconds = [r["seconds"] for r in timed]
    if len(timed) <= 60:
        palette = {"ok": "#3b6ea8", "review": "#7b5ea7", "problem": "#e0a030"}
        colors = [palette.get(r["status"], "#c0392b") for r in timed]
        ax.bar(range(len(timed)), seconds, color=colors)
        ax.set_xticks(range(len(timed)), [r["student"] for r in timed], rotation=90, fontsize=6)
        ax.set_xlabel("submission (blue ok, purple review, orange problem, red error)")
    else:
        ax.hist(seconds, bins=30, color="#3b6ea8", edgecolor="white")
        ax.set_xlabel("seconds")
    ax.set_ylabel("seconds" if len(timed) <= 60 else "submissions")
    ax.set_title("Grading time per submission")
    fig.savefig(path, dpi=110)
    return path


# ----------------------------------------------------------------------------- html


def _figure_html(name: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{FIGURES}/{name}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def write_html(
    path: Path,
    assignment_id: str,
    rows: list[dict],
    parts: dict[str, float],
    canvas: CanvasExport | None = None,
) -> Path:
    """The report page, its figures written to ``figures/`` beside it."""
    folder = path.parent / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    maximum = sum(parts.values())
    submitted = [r for r in rows if r["status"] != "missing"]
    values = totals(submitted, parts)
    stats = part_statistics(rows, parts)
    plot_totals(folder / "totals.png", values, maximum)
    plot_parts(folder / "parts.png", stats)
    plot_times(folder / "times.png", rows)
    mean = sum(values) / len(values) if values else 0.0
    statuses = ("ok", "review", "problem", "error", "missing")
    counts = {s: sum(r["status"] == s for r in rows) for s in statuses}
    weakest = min(stats, key=lambda p: stats[p][0]) if stats else "none"
    table = _rows_table([r for r in rows if r["status"] not in ("ok", "review")])
    review_table = _rows_table([r for r in rows if r["status"] == "review"])
    part_rows = "".join(
        f"<tr><td>{html.escape(p)}</td><td>{pts:g}</td><td>{100 * stats[p][0]:.0f}%</td>"
        f"<td>{100 * stats[p][1]:.0f}%</td></tr>"
        for p, pts in parts.items()
    )
    status_line = ", ".join(f"{n} {s}" for s, n in counts.items())
    figure_totals = _figure_html(
        "totals.png",
        f"Histogram of the total scores of {len(submitted)} students, out of {maximum:g}; "
        f"mean {mean:.2f}.",
        "Distribution of total scores (students who submitted).",
    )
    figure_parts = _figure_html(
        "parts.png",
        f"Horizontal bars: mean score and pass rate for each of the {len(parts)} graded parts; "
        f"the weakest part is {weakest}.",
        "Mean score (percent of the part's points) and pass rate (percent with full points) "
        "per graded part.",
    )
    figure_times = _figure_html(
        "times.png",
        "Bar chart of the seconds each submission took to grade, sorted, coloured by status.",
        "Grading time of each submission graded in the runs so far.",
    )
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Grading report: {html.escape(assignment_id)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}
figure{{margin:1.5rem 0}}img{{max-width:100%}}</style></head><body>
<h1>Grading report: {html.escape(assignment_id)}</h1>
<p>{len(rows)} students: {status_line}. Mean total {mean:.2f} of {maximum:g}
over the {len(submitted)} who submitted.</p>
<h2>Totals</h2>
{figure_totals}
<h2>Parts</h2>
{figure_parts}
<table><tr><th>part</th><th>points</th><th>mean</th><th>pass rate</th></tr>{part_rows}</table>
<h2>Grading time</h2>
{figure_times}
<h2>To review</h2>
<p>Graded on their results; a person should look at the parts named (the grader saw something it
could not confirm while the code ran). They are flagged for manual grading in the gradebook.</p>
<table><tr><th>student</th><th>status</th><th>reason</th></tr>{review_table}</table>
<h2>Problem submissions</h2>
<table><tr><th>student</th><th>status</th><th>reason</th></tr>{table}</table>
{_canvas_html(canvas)}</body></html>
"""
    path.write_text(body, encoding="utf-8")
    return path


def _rows_table(rows: list[dict]) -> str:
    """Table rows (student, status, reason), or one "none" row."""
    cells = "".join(
        f"<tr><td>{html.escape(r['student'])}</td><td>{r['status']}</td>"
        f"<td>{html.escape(r['reason'])}</td></tr>"
        for r in rows
    )
    return cells or '<tr><td colspan="3">none</td></tr>'


def _canvas_html(canvas: CanvasExport | None) -> str:
    """The section on canvas.csv: who has a row, who is left out and why ("" if none)."""
    if canvas is None:
        return ""
    left = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{html.escape(why)}</td></tr>"
        for s, why in canvas.left_out.items()
    )
    return f"""<h2>Canvas gradebook</h2>
<p><code>{html.escape(canvas.path.name)}</code> gives {len(canvas.written)} student(s) their
total in the column <code>{html.escape(canvas.column)}</code>, for the Gradebook's Import.
The students below have no row in it, so the import leaves their Canvas grade as it is (a blank
cell would remove it): grade them in Canvas, or fix the cause and grade again.</p>
<table><tr><th>student</th><th>left out because</th></tr>
{left or '<tr><td colspan="2">none</td></tr>'}</table>
"""


def write_report(
    folder: Path,
    assignment_id: str,
    rows: list[dict],
    parts: dict[str, float],
    canvas: CanvasExport | None = None,
) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``report.html`` (with its figures) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(folder / "grades.csv", rows, parts)
    html_path = write_html(folder / "report.html", assignment_id, rows, parts, canvas)
    return csv_path, html_path
