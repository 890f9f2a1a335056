"""Unit tests of the ps1_power_method grader (coursekit.problemsets.ps1_power_method), in process.

The hidden matrices are drawn from the submission's seed; these tests check, over many seeds,
that every guarantee the module docstring proves still holds (convergence far below the
tolerance, the float32 overflow and float64 underflow traps, λ₁ away from 1), and that the
correct and mistaken corpus cases are graded as their EXPECT says.
"""

from __future__ import annotations

import pytest
import torch
from inprocess import corpus_misgrades, grade, trusted_cases

from coursekit.problemsets import ps1_power_method as ps1
from fromscratch.rules import PS1

SEEDS = range(200)
TRUSTED = trusted_cases("ps1_power_method", "correct_", "mistake_")


@pytest.mark.parametrize("grade_id", list(ps1.PARTS))
def test_every_seed_keeps_the_parts_guarantees(grade_id: str) -> None:
    for seed in SEEDS:
        for case in ps1.cases_for(seed, grade_id):
            lam = ps1._spectrum(case.matrix())  # ascending, float64
            top, second = lam[-1].item(), lam[-2].item()
            assert (second / top) ** (2 * (case.k - 1)) <= 1e-30  # converged far below rtol
            assert abs(top - 1.0) >= 0.25 * top  # "returned 1.0" stays a mistake
            assert case.rtol == PS1.tolerances[str(case.dtype).removeprefix("torch.")]
            if grade_id == "power_method_float32":
                assert top**case.k > torch.finfo(torch.float32).max  # unnormalised overflows
            if grade_id == "power_method_tiny_scale":
                assert top**case.k < 4.9e-324  # unnormalised underflows float64
            if grade_id == "power_method_small_gap":
                assert second / top == pytest.approx(0.9, rel=1e-9)
                assert top ** (2 * case.k) < torch.finfo(torch.float64).max  # no overflow trap


def test_hidden_matrices_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    a = ps1.cases_for(1, "power_method_float64")[0].matrix()
    assert torch.equal(a, ps1.cases_for(1, "power_method_float64")[0].matrix())
    assert not torch.equal(a, ps1.cases_for(2, "power_method_float64")[0].matrix())
    assert ps1.hidden_values(1) == ps1.hidden_values(1) != ps1.hidden_values(2)


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process(path) -> None:
    assert not corpus_misgrades(ps1.CHECKS, path)


def test_a_part_with_one_failing_case_gets_half_its_points() -> None:
    """Partial credit per case (the Rules cell): fail exactly one of the two diagonal cases."""
    first = ps1.cases_for(0, "power_method_diagonal")[0].matrix()
    source = (
        "import torch\n"
        f"FIRST = torch.tensor({first.tolist()}, dtype=torch.float64)\n"
        "def power_method(A, k):\n"
        "    if torch.equal(A, FIRST):\n"
        "        return torch.tensor(1.0, dtype=A.dtype)\n"
        "    v = torch.ones(A.shape[0], dtype=A.dtype)\n"
        "    for _ in range(k):\n"
        "        w = A @ v\n"
        "        v = w / torch.linalg.vector_norm(w)\n"
        "    return v @ (A @ v)\n"
    )
    score, message = grade(ps1.CHECKS, source)["power_method_diagonal"]
    assert score == pytest.approx(0.5)
    assert message.startswith("1 of 2 cases passed.") and "‖v‖" in message
