"""Fixtures of the grading-pipeline tests: demo nbgrader courses and classes built in tmp.

The courses come from ``coursekit.batch.democourse`` (see pipeline_helpers); nothing here
depends on the real problem sets.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pipeline_helpers import GRADE_ARGS, build_course, copy_course, course_cli

from coursekit.batch import democourse


@pytest.fixture(scope="session")
def class_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo course with the whole class submitted, not graded yet (copy before use)."""
    return build_course(tmp_path_factory.mktemp("template") / "course", list(democourse.KINDS))


@pytest.fixture(scope="session")
def graded_class(class_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The class graded once by ``course grade --workers 2``."""
    root = copy_course(class_template, tmp_path_factory.mktemp("graded") / "course")
    start = time.monotonic()
    done = course_cli(root, "grade", democourse.ASSIGNMENT, "--workers", "2", *GRADE_ARGS)
    return {"root": root, "run": done, "seconds": time.monotonic() - start}


@pytest.fixture(scope="session")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of four (two good, two bad) plus one who submitted nothing."""
    kinds = ["correct_solution", "partly_mean", "os_exit", "malformed_json"]
    return build_course(tmp_path_factory.mktemp("small") / "course", kinds)
