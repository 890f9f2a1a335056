"""The gradebook on PostgreSQL against SQLite: grading time, and merges per second of the writer.

1. Grading: the demo class of the end-to-end tests (``coursekit.batch.democourse.KINDS``, 21
   submissions, every bad kind included) graded by ``course grade --workers W`` from identical
   copies of one course, once into a SQLite gradebook and once into a PostgreSQL one, alternating
   (``--rounds`` pairs; medians).
2. Merges: ``gradebook.Merger.apply``, the one writer of a run, writes N graded students (the
   class's records under new student ids, so each merge creates a student and a submission as a
   first run does) into a gradebook holding only the assignment, then the same N again (a
   re-run: updates). Reported: merges per second, over the whole N and per thousand (does the
   rate fall as the gradebook grows?), and what 10,000 submissions cost the writer on each.

PostgreSQL is Debian's, started by ``coursekit.batch.pgserver`` on a Unix socket (defaults: fsync
and synchronous_commit on, as SQLite's default synchronous=FULL is). The machine is shared:
compare the numbers of one run with each other.
Usage: ``python benchmarks/bench_gradebook.py [--merges N] [--workers W] [--rounds R]``.
Prints a Markdown table for the README and writes benchmarks/results/gradebook.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_grading import environment  # this folder: the course command's environment

from coursekit.batch import democourse, gradebook, pgserver

ROOT = Path(__file__).resolve().parent.parent
COURSE = "demo"
ID = democourse.ASSIGNMENT
GRADE_ARGS = ["--timeout", "5", "--output-mb", "1", "--no-progress"]
AT = 10_000  # the class size of the lead's table


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "coursekit.cli", *args],
        cwd=root,
        env=environment(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"course {' '.join(args)} failed in {root}: {done.stderr.strip()[-300:]}")
    return done


def template(root: Path) -> Path:
    """The demo course, released into a SQLite gradebook, the class submitted (not graded)."""
    democourse.make_course(root)
    cli(root, "release")
    democourse.write_class(root, list(democourse.KINDS))
    democourse.add_student_without_submission(root)
    return root


def use_database(root: Path, db_url: str) -> None:
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"c.CourseDirectory.db_url = {db_url!r}\n")


def grade_once(source: Path, dest: Path, db_url: str | None, workers: int) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, symlinks=True)
    if db_url is not None:
        use_database(dest, db_url)
    start = time.perf_counter()
    done = cli(dest, "grade", ID, "--workers", str(workers), *GRADE_ARGS)
    seconds = time.perf_counter() - start
    if "graded 21 submission(s)" not in done.stdout:
        sys.exit(f"unexpected run in {dest}: {done.stdout.strip()[-300:]}")
    return seconds


def grading(
    server: pgserver.Server, source: Path, work: Path, workers: int, rounds: int
) -> tuple[dict, Path]:
    times: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    for i in range(rounds):
        order = ["sqlite", "postgresql"] if i % 2 == 0 else ["postgresql", "sqlite"]
        for kind in order:
            url = None
            if kind == "postgresql":  # the released assignment, as in the SQLite copy
                url = server.create_database(f"grading{i}")
                empty_gradebook(source, url)
            seconds = grade_once(source, work / kind, url, workers)
            times[kind].append(seconds)
            print(f"  grading round {i + 1}, {kind}: {seconds:.1f} s", flush=True)
    graded = work / "sqlite"  # its gradebook: the records the merges write
    return {k: {"seconds": v, "median": statistics.median(v)} for k, v in times.items()}, graded


def class_records(graded: Path) -> list[dict]:
    url = gradebook.sqlite_url(graded / "gradebook.db")
    students = sorted(p.name for p in (graded / "submitted").iterdir())
    records = [gradebook.extract_record(url, COURSE, ID, s) for s in students]
    return [r for r in records if r["submission"] is not None]


def renamed(record: dict, student: str) -> dict:
    out = copy.deepcopy(record)
    out["student"].update(id=student, first_name=student, last_name="Bench", email=None)
    return out


def merges(url: str, records: list[dict], n: int) -> dict:
    """Merge n students (inserts), then the same n again (updates); per-thousand rates."""
    from sqlalchemy import event

    batch = [renamed(records[i % len(records)], f"s{i:05d}") for i in range(n)]
    out = {}
    with gradebook.Merger(url, COURSE) as merger:
        seen = {"statements": 0, "commits": 0}  # what one merge costs the database

        def statement(*_: object) -> None:
            seen["statements"] += 1

        def commit(*_: object) -> None:
            seen["commits"] += 1

        event.listen(merger.gb.engine, "before_cursor_execute", statement)
        event.listen(merger.gb.engine, "commit", commit)
        for phase in ("first", "again"):
            seen.update(statements=0, commits=0)
            chunks, start = [], time.perf_counter()
            last, done = start, 0
            for i, record in enumerate(batch, 1):
                merger.apply(record)
                if i % 1000 == 0 or i == n:
                    now = time.perf_counter()
                    chunks.append(round((i - done) / (now - last), 1))
                    last, done = now, i
            seconds = time.perf_counter() - start
            per = {k: round(v / n, 1) for k, v in seen.items()}
            out[phase] = {
                "seconds": seconds,
                "per_second": n / seconds,
                "per_thousand": chunks,
                "per_merge": per,
            }
            print(
                f"  {phase:5s} merge of {n}: {n / seconds:.1f}/s (per 1000: {chunks}; per merge "
                f"{per['statements']} statements, {per['commits']} commits)",
                flush=True,
            )
    return out


def empty_gradebook(released: Path, dest_url: str) -> None:
    """``dest_url`` with the released assignment and nothing graded."""
    gradebook.copy_gradebook(gradebook.sqlite_url(released / "gradebook.db"), dest_url, COURSE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merges", type=int, default=2000, help="students merged (default 2000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="grading pairs (default 1)")
    args = parser.parse_args()
    if args.merges < 1 or args.workers < 1 or args.rounds < 1:
        sys.exit("--merges, --workers and --rounds must be at least 1")
    try:
        server = pgserver.start()
    except pgserver.PostgresUnavailable as error:
        sys.exit(f"bench_gradebook needs PostgreSQL: {error}")
    load = [os.getloadavg()[0]]  # the machine is shared: say how busy it was
    work = Path(tempfile.mkdtemp(prefix="bench-gradebook-"))
    try:
        source = template(work / "template")
        print("grading the demo class (21 submissions):", flush=True)
        grades, graded = grading(server, source, work, args.workers, args.rounds)
        records = class_records(graded)
        print(f"merging {args.merges} students:", flush=True)
        lite = gradebook.sqlite_url(work / "merge.db")
        empty_gradebook(source, lite)
        pg = server.create_database("merges")
        empty_gradebook(source, pg)
        rates = {"sqlite": merges(lite, records, args.merges)}
        rates["postgresql"] = merges(pg, records, args.merges)
        with server.connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    per_submission = {k: v["median"] / 21 * args.workers for k, v in grades.items()}
    result = {
        "postgresql": version,
        "workers": args.workers,
        "rounds": args.rounds,
        "grading": grades,
        "merges": args.merges,
        "merge_rates": rates,
        "cpu_count": os.cpu_count(),
        "load_average": [*load, os.getloadavg()[0]],  # at the start, at the end
    }
    out = ROOT / "benchmarks" / "results" / "gradebook.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    sq, pq = grades["sqlite"]["median"], grades["postgresql"]["median"]
    print()
    print(f"Grading the demo class (21 submissions, --workers {args.workers}, median of ")
    print(
        f"{args.rounds}): SQLite {sq:.1f} s, PostgreSQL {version} {pq:.1f} s (ratio {pq / sq:.2f})"
    )
    print(f"(load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    print()
    print(f"| gradebook | merges/s, first ({args.merges}) | merges/s, re-run | 10,000 merges |")
    print("|---|---|---|---|")
    for kind, label in (("sqlite", "SQLite"), ("postgresql", f"PostgreSQL {version}")):
        first, again = rates[kind]["first"]["per_second"], rates[kind]["again"]["per_second"]
        print(f"| {label} | {first:.0f} | {again:.0f} | {AT / first:.0f} s |")
    print()
    for kind in ("sqlite", "postgresql"):
        first = rates[kind]["first"]["per_second"]
        busy = first * per_submission[kind]
        print(
            f"{kind}: one worker grades a submission in {per_submission[kind]:.1f} s here, so the "
            f"single writer ({first:.0f} merges/s) keeps up with about {busy:.0f} workers"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
