"""What to grade: the students, a content hash per submission, and the journal of finished ones.

**Idempotent.** A submission's key hashes every file under ``submitted/<student>/<id>/`` (names
and bytes) together with the grader's fingerprint: the assignment's source folder, the course's
``nbgrader_config.py``, the problem set's check module if there is one, and the limits (so a
longer ``--timeout`` regrades). Without ``--force`` a student is graded again only if the key
changed, the last attempt failed for a reason that was not the student's (a worker that died),
or the course no longer holds the result (autograded folder or gradebook rows gone).

**Resumable.** ``reports/<id>/journal.jsonl`` gets one JSON line per student the moment that
student's rows are in the gradebook (flushed and fsync'ed). A run that is interrupted (Ctrl-C,
a killed process) loses at most the students that were being graded; the next run skips the
rest. A torn last line is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

JOURNAL = "journal.jsonl"


def discover_students(submitted: Path) -> list[str]:
    """Every student folder under ``submitted/`` (hidden folders skipped), sorted."""
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))


def _hash_tree(digest: hashlib._Hash, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(files: list[Path], folders: list[Path], settings: dict) -> str:
    """A hash of everything, besides the submission, that decides a grade."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in files:
        digest.update(str(path.name).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    for folder in folders:
        _hash_tree(digest, folder)
    return digest.hexdigest()


def submission_key(folder: Path, grader: str) -> str:
    """The content hash of one submission folder under a given grader fingerprint."""
    digest = hashlib.sha256(grader.encode())
    if folder.is_dir():
        _hash_tree(digest, folder)
    else:
        digest.update(b"<no submission>")
    return digest.hexdigest()


class Journal:
    """Append-only record of finished students, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, dict]:
        """The latest entry of each student."""
        entries: dict[str, dict] = {}
        if not self.path.exists():
            return entries
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill
            if isinstance(entry, dict) and isinstance(entry.get("student_id"), str):
                entries[entry["student_id"]] = entry
        return entries

    def append(self, entry: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**entry, "recorded": time.time()}) + "\n"
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())


def is_current(entry: dict | None, key: str, in_gradebook: bool, autograded: bool) -> bool:
    """Can the journaled result of a student stand (same key, and still in the course)?"""
    if entry is None or entry.get("key") != key or not entry.get("final", True):
        return False
    if entry.get("in_gradebook") and not in_gradebook:
        return False
    return not (entry.get("graded") and not autograded)
