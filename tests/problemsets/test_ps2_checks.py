"""Unit tests of the ps2_low_rank grader (coursekit.problemsets.ps2_low_rank), in process.

The corpus test (test_grading_corpus.py) proves the whole pipeline through nbgrader; these tests
pin the pieces it rests on, quickly: the test matrices really have the singular values they
claim, the optimum is unique with a gap, every legitimate route lands far inside the tolerance,
and every correct or mistaken corpus case is graded as its EXPECT says.
"""

from __future__ import annotations

import harness
import nbformat
import pytest
import torch
from inprocess import corpus_misgrades, grade, trusted_cases

from coursekit.problemsets import ps2_low_rank as ps2

ALL_CASES = (*ps2.SQUARE_CASES, *ps2.RECT_CASES, *ps2.EDGE_CASES)
TRUSTED = trusted_cases("ps2_low_rank", "correct_", "mistake_")


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: f"{c.m}x{c.n}-r{c.r}-{c.dtype}")
def test_test_matrices_have_the_singular_values_they_claim(case: ps2.Case) -> None:
    a = ps2.known_matrix(case.m, case.n, case.sigma, case.seed)
    assert a.shape == (case.m, case.n)
    torch.testing.assert_close(
        torch.linalg.svdvals(a), torch.tensor(case.sigma, dtype=torch.float64), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: f"{c.m}x{c.n}-r{c.r}-{c.dtype}")
def test_optimum_is_unique_and_mistakes_are_far_from_rounding(case: ps2.Case) -> None:
    s, k, r = case.sigma, min(case.m, case.n), case.r
    assert s[-1] / s[0] >= 0.1, "condition number must stay modest (tolerance argument)"
    if 0 < r < k:
        assert s[r - 1] - s[r] >= 1.0, "a gap sigma_r - sigma_{r+1} >= 1 makes A_r unique"
        frob = sum(v * v for v in s) ** 0.5
        assert s[r] / frob >= 0.05, "every mistake must move the result by >= 5% of ||A||_F"


def test_reference_error_is_the_eckart_young_value() -> None:
    for case in ALL_CASES:
        ref = ps2.Reference.of(ps2.known_matrix(case.m, case.n, case.sigma, case.seed))
        r = min(case.r, len(case.sigma))
        error = torch.linalg.norm(ref.a - ref.truncation(r)).item()
        assert abs(error - sum(v * v for v in case.sigma[r:]) ** 0.5) < 1e-12


def _svd_route(a: torch.Tensor, r: int) -> torch.Tensor:
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    return (u[:, :r] * s[:r]) @ vh[:r]


def _gram_route(a: torch.Tensor, r: int) -> torch.Tensor:
    _, v = torch.linalg.eigh(a.T @ a)  # eigenvalues in increasing order
    vr = v[:, v.shape[1] - min(r, v.shape[1]) :]
    return a @ vr @ vr.T


@pytest.mark.parametrize("route", [_svd_route, _gram_route], ids=["svd", "gram"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_legitimate_routes_are_100x_inside_the_tolerance(route, dtype: torch.dtype) -> None:
    for case in ALL_CASES:
        a = ps2.known_matrix(case.m, case.n, case.sigma, case.seed).to(dtype)
        ref = ps2.Reference.of(a)
        got = route(a, case.r).to(torch.float64)
        want = ref.truncation(min(case.r, len(ref.s)))
        rel = (torch.linalg.norm(got - want) / ref.a.norm()).item()
        assert rel <= ps2.CLOSE_TOL[dtype] / 100, (case, rel)


def test_checks_match_the_notebook_graded_cells_in_order() -> None:
    nb = nbformat.read(harness.SOLUTIONS / "ps2_low_rank" / "ps2_low_rank.ipynb", as_version=4)
    cells = harness.graded_test_cells(nb)
    assert list(cells) == [c.grade_id for c in ps2.CHECKS]
    assert [cells[c.grade_id] for c in ps2.CHECKS] == [float(c.points) for c in ps2.CHECKS]


def test_reference_solution_gets_full_marks() -> None:
    nb = nbformat.read(harness.SOLUTIONS / "ps2_low_rank" / "ps2_low_rank.ipynb", as_version=4)
    source = "\n".join(
        harness.strip_solution_markers(c.source)
        for c in nb.cells
        if c.cell_type == "code"
        if not harness.nbgrader_meta(c).get("grade")
    )
    graded = grade(ps2.CHECKS, source)
    assert all(score == c.points for c, (score, _) in zip(ps2.CHECKS, graded.values(), strict=True))


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process(path) -> None:
    assert not corpus_misgrades(ps2.CHECKS, path)


def test_rank_message_is_the_one_students_read() -> None:
    source = (
        "import torch\n"
        "def best_rank_approximation(A, r):\n"
        "    U, S, Vh = torch.linalg.svd(A, full_matrices=False)\n"
        "    return (U[:, :r + 1] * S[:r + 1]) @ Vh[:r + 1]\n"
    )
    graded = grade(ps2.CHECKS, source)
    assert "the result has rank 3, expected at most 2" in graded["ps2_optimal_rectangular"][1]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_seeded_cases_keep_every_guarantee(seed: int) -> None:
    """Hidden inputs per submission: singular vectors and a scale from the seed; the singular
    values are the scaled ones, and the scale-free conditions of the tolerance argument hold."""
    for kind in ("square", "rect", "edge"):
        for case in ps2.cases_for(seed, kind):
            assert 0.5 <= case.scale <= 2.0
            a = ps2.case_matrix(case).to(torch.float64)
            want = torch.tensor(case.sigma, dtype=torch.float64) * case.scale
            torch.testing.assert_close(torch.linalg.svdvals(a), want, rtol=1e-6, atol=0)
            s, r, k = case.sigma, case.r, min(case.m, case.n)
            if 0 < r < k:
                assert (s[r - 1] - s[r]) / s[0] >= 0.1  # Wedin amplification <= 10
    first = ps2.case_matrix(ps2.cases_for(seed, "square")[0])
    other = ps2.case_matrix(ps2.cases_for(seed + 1, "square")[0])
    assert not torch.equal(first, other)
    assert ps2.hidden_values(seed) == ps2.hidden_values(seed) != ps2.hidden_values(seed + 1)


def test_full_matrices_true_gets_the_truthful_hint() -> None:
    """The default full_matrices=True crashes for r > min(m, n) on a non-square A; the hint
    says why (it used to claim that slicing makes the edge cases free)."""
    source = (
        "import torch\n"
        "def best_rank_approximation(A, r):\n"
        "    U, S, Vh = torch.linalg.svd(A)\n"
        "    return (U[:, :r] * S[:r]) @ Vh[:r, :]\n"
    )
    score, message = grade(ps2.CHECKS, source)["ps2_edge_cases"]
    assert score < 2 and "full_matrices=False" in message and "of 5 cases passed" in message


def test_eigh_route_with_negative_slice_is_told_about_r_zero() -> None:
    source = (
        "import torch\n"
        "def best_rank_approximation(A, r):\n"
        "    _, V = torch.linalg.eigh(A.T @ A)\n"
        "    Vr = V[:, -r:]\n"
        "    return A @ Vr @ Vr.T\n"
    )
    score, message = grade(ps2.CHECKS, source)["ps2_edge_cases"]
    assert score < 2 and "V[:, -0:]" in message
