"""Unit tests of the ps3_mlp_gd grader (coursekit.problemsets.ps3_mlp_gd), in process.

The references the grader trusts are checked against independent oracles (finite differences,
torch.optim.SGD), the shapes are checked to expose transposes, the diagnostic factors are checked
to be distinguishable, and every correct or mistaken corpus case is graded as its EXPECT says.
"""

from __future__ import annotations

import harness
import nbformat
import pytest
import torch
from inprocess import corpus_misgrades, corpus_source, grade, trusted_cases

from coursekit.problemsets import ps3_mlp_gd as ps3

TRUSTED = trusted_cases("ps3_mlp_gd", "correct_", "mistake_")


def test_dimensions_are_distinct_so_transposes_show() -> None:
    assert len({ps3.N, ps3.D, ps3.H, ps3.O}) == 4


@pytest.mark.parametrize("single", [False, True])
def test_reference_gradients_match_finite_differences(single: bool) -> None:
    p = ps3.make_problem(5, torch.float64, single=single)
    grads = ps3.ref_gradients(p)
    eps = 1e-6
    for param, grad in zip(p.params, grads, strict=True):
        assert grad.shape == param.shape
        flat = param.reshape(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + eps
            up = ps3.ref_loss(ps3.ref_forward(p.x, *p.params), p.y).item()
            flat[i] = old - eps
            down = ps3.ref_loss(ps3.ref_forward(p.x, *p.params), p.y).item()
            flat[i] = old
            assert abs((up - down) / (2 * eps) - grad.reshape(-1)[i].item()) < 1e-8


def test_reference_train_matches_torch_optim_sgd() -> None:
    p = ps3.make_problem(7, torch.float64)
    traj = ps3.ref_train(p, ps3.LR, ps3.STEPS)
    params = [t.clone().requires_grad_(True) for t in p.params]
    opt = torch.optim.SGD(params, lr=ps3.LR)
    losses = []
    for _ in range(ps3.STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(ps3.ref_forward(p.x, *params), p.y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    assert traj.losses == pytest.approx(losses, rel=1e-12)
    for got, want in zip(traj.params, params, strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=1e-12, atol=1e-12)
    assert traj.after[:-1] == pytest.approx(traj.losses[1:], rel=1e-12)


def test_wrong_trajectories_are_far_from_the_right_one() -> None:
    p = ps3.make_problem(71, torch.float64)
    right = torch.tensor(ps3.ref_train(p, ps3.LR, ps3.STEPS).losses)
    for mode in ("accumulate", "ascent"):
        wrong = torch.tensor(ps3.ref_train(p, ps3.LR, ps3.STEPS, mode=mode).losses)
        assert (wrong - right).norm() / right.norm() > 100 * ps3.TOL[torch.float32]


def test_sigma_prime_slips_are_distinguishable_from_the_truth_and_each_other() -> None:
    p = ps3.make_problem(61, torch.float64)
    true_dw1 = ps3.ref_gradients(p)[0]
    candidates = [dw1 for dw1, _ in ps3.hidden_candidates(p).values()]
    for i, c in enumerate([true_dw1, *candidates]):
        for other in [true_dw1, *candidates][i + 1 :]:
            assert (c - other).norm() / other.norm() > 0.1


def test_scale_factors_are_distinguishable() -> None:
    for n in (1, ps3.N):
        factors = sorted(ps3._scale_messages(n))
        for a, b in zip(factors, factors[1:], strict=False):
            assert b / a > 1.2 or (a < 0 < b), (n, a, b)


def test_checks_match_the_notebook_graded_cells_in_order() -> None:
    nb = nbformat.read(harness.SOLUTIONS / "ps3_mlp_gd" / "ps3_mlp_gd.ipynb", as_version=4)
    cells = harness.graded_test_cells(nb)
    assert list(cells) == [c.grade_id for c in ps3.CHECKS]
    assert [cells[c.grade_id] for c in ps3.CHECKS] == [float(c.points) for c in ps3.CHECKS]


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process(path) -> None:
    assert not corpus_misgrades(ps3.CHECKS, path)


class _Seeded:
    seed = 0  # the InProcessStudent has no seed: checks use 0 (checks.seed_of)


def test_train_messages_do_not_reveal_the_expected_losses() -> None:
    expected = []
    for label, dtype in ps3.TRAIN_CASES:
        p = ps3._problem(_Seeded(), label, dtype)
        expected += ps3.ref_train(p, ps3.LR, ps3.STEPS).losses
    needles = {f"{v:.4g}" for v in expected} | {f"{v:.3f}" for v in expected}
    for path in TRUSTED:
        graded = grade(ps3.CHECKS, corpus_source(path))
        for gid in ("ps3_train_losses", "ps3_train_updates", "ps3_mse_loss"):
            message = graded[gid][1]
            assert not any(n in message for n in needles), (path.stem, gid, message)


SEED_SOLUTION = """
import torch


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    if x.dim() == 1:
        x, y = x.reshape(1, -1), y.reshape(1, -1)
    h = sigmoid(x @ W1.T + b1)
    pred = h @ W2.T + b2
    g_pred = 2 * (pred - y) / pred.numel()
    g_z = (g_pred @ W2) * h * (1 - h)
    return g_z.T @ x, g_z.sum(0), g_pred.T @ h, g_pred.sum(0)


def train(x, y, W1, b1, W2, b2, lr, steps):
    params, losses = [W1, b1, W2, b2], []
    for _ in range(steps):
        loss = mse_loss(forward(x, *params), y)
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
    return losses
"""


@pytest.mark.parametrize(
    "wrong_sigmoid",
    [
        "def sigmoid(z):\n    return 1 / (1 + torch.exp(z))\n",  # the sign
        "def sigmoid(z):\n    return torch.tanh(z)\n",  # another function altogether
        "def sigmoid(z):\n    return 1 / (1 + torch.exp(-2 * z))\n",  # a slope
    ],
    ids=["sign", "tanh", "slope"],
)
def test_a_wrong_sigmoid_costs_only_the_sigmoid_parts(wrong_sigmoid: str) -> None:
    """Every function is graded on its own: the Rules cell promises it."""
    graded = grade(ps3.CHECKS, SEED_SOLUTION + wrong_sigmoid)
    lost = {gid for gid, (score, _) in graded.items() if score < ps3.CHECKS_BY_ID[gid].points}
    assert lost == {"ps3_sigmoid_values"} or lost == {"ps3_sigmoid_values", "ps3_sigmoid_stable"}


def test_hidden_inputs_depend_on_the_seed_and_only_on_it() -> None:
    a, b = _Seeded(), _Seeded()
    b.seed = 1
    for label, dtype in ps3.TRAIN_CASES:
        p0, p0_again = ps3._problem(a, label, dtype), ps3._problem(_Seeded(), label, dtype)
        p1 = ps3._problem(b, label, dtype)
        assert torch.equal(p0.x, p0_again.x) and torch.equal(p0.W1, p0_again.W1)
        assert not torch.equal(p0.x, p1.x)
    assert ps3.hidden_values(0) == ps3.hidden_values(0) != ps3.hidden_values(1)
