"""Test-wide setup: load the shared hypothesis profile and seed torch's global RNG."""

import pytest
import torch

import strategies  # noqa: F401  (registers and loads the "course" hypothesis profile)


@pytest.fixture(autouse=True)
def _seed_everything():
    torch.manual_seed(0)
    yield
