"""How long each part of the test suite took, from the JUnit XML that `make test` writes.

pytest runs the tests one after the other, so the parts add up to the run's wall time. A
test's time is its setup, call and teardown together (pytest's default for JUnit XML), so a
session fixture (the corpora's one `course grade` per set, the graded class of the batch
tests) counts in the part whose test first asked for it.

Parts: each folder under tests/ (tests/problemsets split into the corpus, the release and
feedback checks, and the rest), and the tests at the top of tests/ as one part each per file
above 60 s, the others together. Prints a Markdown table for the README.

Usage: ``python benchmarks/suite_times.py [artifacts/pytest.xml]``
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPLIT = {  # files under tests/problemsets that are parts of their own
    "test_grading_corpus": "tests/problemsets: the corpora (course grade; ch03 also nbgrader)",
    "test_release_and_feedback": "tests/problemsets: release, validate and feedback",
}
OWN_PART_SECONDS = 60.0


def part_of(classname: str) -> tuple[str, str]:
    """(part, file) of a JUnit classname such as ``tests.batch.test_grade_class``."""
    names = classname.split(".")
    while names and not names[-1].startswith("test_"):
        names.pop()  # a test class inside the module
    if not names:
        return "other", classname
    module = names[-1]
    folders = names[1:-1] if names[0] == "tests" else names[:-1]
    file = "/".join(["tests", *folders, module]) + ".py"
    if not folders:
        return "", file
    if folders[0] == "problemsets":
        return SPLIT.get(module, "tests/problemsets: the checks of each set"), file
    return f"tests/{folders[0]}", file


def parts(xml: Path) -> tuple[dict[str, float], dict[str, int], float, str]:
    root = ET.parse(xml).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        raise SystemExit(f"{xml}: no <testsuite> in it; is it pytest's --junitxml output?")
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    top: dict[str, float] = defaultdict(float)
    top_counts: dict[str, int] = defaultdict(int)
    for case in suite.iter("testcase"):
        part, file = part_of(case.get("classname", ""))
        spent = float(case.get("time", 0))
        if part:
            seconds[part] += spent
            counts[part] += 1
        else:
            top[file] += spent
            top_counts[file] += 1
    for file, spent in top.items():
        part = file if spent >= OWN_PART_SECONDS else "tests/test_*.py: the rest"
        seconds[part] += spent
        counts[part] += top_counts[file]
    return seconds, counts, float(suite.get("time", 0)), suite.get("timestamp", "")


def main(argv: list[str]) -> int:
    xml = Path(argv[1]) if len(argv) > 1 else ROOT / "artifacts" / "pytest.xml"
    if not xml.is_file():
        print(f"suite_times: {xml} does not exist: run `make test` first", file=sys.stderr)
        return 2
    seconds, counts, total, stamp = parts(xml)
    print(f"Test suite of {stamp or 'one run'}: {total / 60:.1f} min in pytest\n")
    print("| part | tests | minutes | share |")
    print("|---|---:|---:|---:|")
    for part, spent in sorted(seconds.items(), key=lambda kv: -kv[1]):
        share = spent / total if total else 0.0
        print(f"| {part} | {counts[part]} | {spent / 60:.1f} | {share:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
