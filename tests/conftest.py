"""Test-wide setup: load the shared hypothesis profile and seed torch's global RNG; under
``make test`` (``pytest -n 2 --dist loadgroup``), say which tests run in the same process.

Two pytest-xdist processes run the suite. Each test file is one unit of work, so a file's module
fixtures are made once. A session fixture that costs minutes is made once too: every test that
asks for it (``SHARED``) is in that fixture's unit, whatever file it is in. Units are handed out
longest first (``LONGEST_FIRST``; the others after them in file order), so that the two processes
end together rather than one waiting for the other's last long file.
"""

from pathlib import Path

import pytest
import torch

import strategies  # noqa: F401  (registers and loads the "course" hypothesis profile)
from chromium import running_chromium

ROOT = Path(__file__).resolve().parents[1]
ACCURACY = ROOT / "artifacts" / "grader-accuracy.txt"  # written by the corpora's fixture

SHARED = {  # session fixture -> the unit of every test that uses it
    "graded_runs": "corpora",  # tests/problemsets: every set's corpus graded by course grade
    "validations": "validations",  # tests/problemsets: nbgrader validate on every set
    "class_template": "demo class",  # tests/batch: the demo course, submitted and graded
    "small_template": "demo class",
}
LONGEST_FIRST = (  # about 10, 3, 3, 4, 2, 1.5 and 1.5 minutes in a serial run
    "corpora",
    "tests/browser/test_book_in_browser.py",
    "tests/test_publish.py",
    "demo class",
    "tests/hub/test_exchange_on_hub.py",
    "validations",
    "tests/browser/test_lab_validate.py",
)


def unit_of(item: pytest.Item) -> str:
    for fixture, unit in SHARED.items():
        if fixture in item.fixturenames:
            return unit
    return Path(item.path).relative_to(ROOT).as_posix()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
    units = {id(item): unit_of(item) for item in items}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(units[id(item)]))
    items.sort(key=lambda item: rank.get(units[id(item)], len(rank)))  # stable: file order kept


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the run itself, not one of its processes
        ACCURACY.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    """The corpora's accuracy, from whichever process graded them."""
    if ACCURACY.is_file():
        terminalreporter.section("grader accuracy")
        for line in ACCURACY.read_text(encoding="utf-8").splitlines():
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _seed_everything():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium via Playwright, one per test process (browser and hub suites)."""
    yield from running_chromium()
