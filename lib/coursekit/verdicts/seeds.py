"""Seeds of the hidden inputs: one per student and submission, recorded in the gradebook.

The seed is a pure function of the assignment, the student id and a hash of the code graded (the
cells the sandbox runs, ``grader.student_cells``)::

    submission_hash = sha256 of the cells, each prefixed by its length
    seed            = first 8 bytes of sha256("assignment\\0student\\0submission_hash") mod 2³¹

so re-grading the same submission gives the same hidden inputs and the same score, and two
students (or two submissions) get different ones. ``record`` writes the seed into a small table
of nbgrader's own gradebook database (``coursekit_seeds``: assignment, student, submission hash,
seed, when), next to nbgrader's tables, so a grade can be reproduced later from the gradebook
alone: ``grade_cells(cells, problemset, seed=lookup(...)[-1].seed)``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select

__all__ = ["SeedRecord", "copy_records", "lookup", "record", "seed_for", "submission_hash"]

_metadata = MetaData()
SEEDS = Table(
    "coursekit_seeds",
    _metadata,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("submission_hash", String(64), primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("graded_at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class SeedRecord:
    assignment: str
    student: str
    submission_hash: str
    seed: int
    graded_at: dt.datetime


def submission_hash(cells: Sequence[str]) -> str:
    """SHA-256 (hex) of the code graded: the cells in order, each prefixed by its length."""
    h = hashlib.sha256()
    for source in cells:
        data = source.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def seed_for(assignment: str, student: str, digest: str) -> int:
    """The hidden-input seed of one submission, in [0, 2³¹)."""
    key = f"{assignment}\0{student}\0{digest}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 2**31


def record(db_url: str, assignment: str, student: str, digest: str, seed: int) -> None:
    """Store (assignment, student, submission hash, seed) in the gradebook; idempotent."""
    engine = create_engine(db_url)
    try:
        _metadata.create_all(engine, tables=[SEEDS])
        key = (
            (SEEDS.c.assignment == assignment)
            & (SEEDS.c.student == student)
            & (SEEDS.c.submission_hash == digest)
        )
        with engine.begin() as conn:
            row = conn.execute(select(SEEDS.c.seed).where(key)).first()
            if row is None:
                conn.execute(
                    SEEDS.insert().values(
                        assignment=assignment,
                        student=student,
                        submission_hash=digest,
                        seed=seed,
                        graded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    )
                )
            elif row.seed != seed:
                raise ValueError(
                    f"the gradebook holds seed {row.seed} for this submission of {student} to "
                    f"{assignment}, but it now derives {seed}: the seed rule changed"
                )
    finally:
        engine.dispose()


def lookup(db_url: str, assignment: str, student: str) -> list[SeedRecord]:
    """Every recorded submission of ``student`` to ``assignment``, oldest first."""
    engine = create_engine(db_url)
    try:
        _metadata.create_all(engine, tables=[SEEDS])
        query = (
            select(SEEDS)
            .where((SEEDS.c.assignment == assignment) & (SEEDS.c.student == student))
            .order_by(SEEDS.c.graded_at)
        )
        with engine.connect() as conn:
            return [SeedRecord(*row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def copy_records(source_url: str, dest_url: str, assignment: str, student: str) -> int:
    """Copy the seed records of one student's submissions from a gradebook copy (e.g. a grading
    worker's private one) into ``dest_url``; returns how many were copied."""
    records = lookup(source_url, assignment, student)
    for r in records:
        record(dest_url, r.assignment, r.student, r.submission_hash, r.seed)
    return len(records)
