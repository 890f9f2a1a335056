"""`course grade ID`: the command-line face of ``coursekit.batch.run``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

SUMMARY = "autograde every submission of ID in parallel, then feedback, export and report"

DESCRIPTION = """Autograde every submission under submitted/*/ID with nbgrader, in parallel (one
worker process per core by default, one whole student per worker at a time), in a kernel with
memory, process-count, file-size and output limits, inside a bubblewrap sandbox (no network,
no course files; the run stops if the sandbox cannot be made, unless --unsafe-no-sandbox).
Then generate feedback, run nbgrader's export (exports/ID/grades.csv), and write
reports/ID/grades.csv (one row per student: a column per graded part, the total, a status and a
one-line reason) and reports/ID/report.html (figures); for students collected from a Canvas
download also reports/ID/canvas.csv, for Canvas's gradebook import (a student whose grade needs
a person, or could not be graded, has no row there: Canvas keeps their grade as it is).
Without --force only new or changed submissions are graded; an interrupted run resumes where it
stopped. Bad submissions never stop the batch."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from coursekit.batch.limits import DEFAULT_TIMEOUT, Limits

    defaults = Limits()
    parser.description = DESCRIPTION
    parser.add_argument("assignment_id", metavar="ID", help="the assignment, e.g. ps1_power_method")
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help=f"local worker processes (default: one per core, here {os.cpu_count()})",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run on this Dask scheduler (e.g. tcp://host:8786) instead of local workers; "
        "the Dask workers need this Python environment and the course folder at the same path",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="time limit of each notebook cell (default: Execute.timeout from the course's "
        f"nbgrader_config.py, else {DEFAULT_TIMEOUT})",
    )
    parser.add_argument(
        "--force", action="store_true", help="grade every submission again, changed or not"
    )
    limits = parser.add_argument_group("limits of the grading kernel")
    limits.add_argument(
        "--memory-mb",
        type=_positive,
        default=defaults.memory_mb,
        help=f"address-space limit (default: {defaults.memory_mb})",
    )
    limits.add_argument(
        "--max-procs",
        type=_positive,
        default=defaults.max_procs,
        help=f"processes beside the kernel (default: {defaults.max_procs})",
    )
    limits.add_argument(
        "--file-mb",
        type=_positive,
        default=defaults.file_mb,
        help=f"largest file it may write (default: {defaults.file_mb})",
    )
    limits.add_argument(
        "--output-mb",
        type=_positive,
        default=defaults.output_mb,
        help=f"output kept per cell (default: {defaults.output_mb})",
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course folder, holding nbgrader_config.py (default: found from here upwards)",
    )
    parser.add_argument(
        "--canvas-assignment-id",
        type=_positive,
        default=None,
        metavar="N",
        help="the assignment's id in Canvas (the number in its address, .../assignments/N): "
        "canvas.csv then fills that assignment; without it Canvas matches the column by name "
        "or creates a new assignment",
    )
    parser.add_argument(
        "--kernels",
        choices=("warm", "cold"),
        default="warm",
        help="warm (default): each local worker forks its grading kernels from a parent that "
        "has imported torch once, in one sandbox per worker, one student at a time; cold: a "
        "fresh interpreter and sandbox per kernel (always so on --scheduler)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade even if the bubblewrap sandbox cannot be made: student code then runs "
        "unconfined and can read and change the course (the log and the summary say so)",
    )


def run(args: argparse.Namespace) -> int:
    from coursekit.batch.course import find_root
    from coursekit.batch.limits import Limits
    from coursekit.batch.run import Options, grade

    limits = Limits(
        memory_mb=args.memory_mb,
        max_procs=args.max_procs,
        file_mb=args.file_mb,
        output_mb=args.output_mb,
    )
    options = Options(
        assignment_id=args.assignment_id,
        workers=args.workers,
        scheduler=args.scheduler,
        limits=limits,
        timeout=args.timeout,
        force=args.force,
        progress=not args.no_progress,
        unsafe_no_sandbox=args.unsafe_no_sandbox,
        canvas_assignment_id=args.canvas_assignment_id,
        kernels=args.kernels,
    )
    outcome = grade(find_root(args.course), options)
    print(outcome.summary())
    return 0
