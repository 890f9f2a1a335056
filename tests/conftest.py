"""Test-wide setup: load the shared hypothesis profile and seed torch's global RNG."""

import pytest
import torch

import strategies  # noqa: F401  (registers and loads the "course" hypothesis profile)
from chromium import running_chromium


@pytest.fixture(autouse=True)
def _seed_everything():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium via Playwright, one for the whole session (browser and hub suites)."""
    yield from running_chromium()
