"""fromscratch.check: the observer sees forbidden routines at run time, and check() applies the
same rules and tolerances as grading (fromscratch.rules, which coursekit's problem sets import)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fromscratch import check as check_module
from fromscratch.check import check, observe
from fromscratch.rules import RULES

A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)


def _families(findings) -> set[str]:
    return {family for family, _ in findings}


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: torch.linalg.eigvalsh(A), "torch.linalg.eigvalsh"),
        (lambda: torch.linalg.svd(A), "torch.linalg.svd"),
        (lambda: A.svd(), "svd"),
        (lambda: torch.linalg.matrix_norm(A, ord=2), "torch.linalg.matrix_norm"),
        (lambda: np.linalg.eigvalsh(A.numpy()), "numpy.linalg.eigvalsh"),
        (lambda: np.linalg.svd(A.numpy()), "numpy.linalg.svd"),
    ],
    ids=["eigvalsh", "svd", "tensor.svd", "matrix_norm_2", "numpy_eigvalsh", "numpy_svd"],
)
def test_observer_sees_spectral_routines_under_their_public_name(call, name: str) -> None:
    with observe() as findings:
        call()
    assert ("spectral", f"calls {name}") in findings or any(
        family == "spectral" and name in text for family, text in findings
    ), findings


def test_observer_sees_an_aliased_import() -> None:
    from torch.linalg import eigh as innocent

    with observe() as findings:
        innocent(A)
    assert "spectral" in _families(findings)


def test_observer_names_the_ready_made_routines_a_chapter_exercise_bans() -> None:
    a, b = torch.randn(3, 4), torch.randn(4, 2)
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    with observe() as findings:
        a.stride()
        torch.einsum("ij,jk->ik", a, b)
        torch.broadcast_shapes((3, 1), (1, 4))  # plain Python: wrapped where it lives
        a.expand(2, 3, 4)
        torch.dot(a[0], a[0])
        torch.nn.Linear(4, 2)(a)  # F.linear and the init routines its constructor calls
        torch.optim.SGD([p], lr=0.1, momentum=0.9).step()
        a.clamp(min=0) * 2  # an honest ReLU is nothing of the kind
        torch.mm(a, b)  # resolve_name calls it "torch.spmm": identified by identity
    assert _families(findings) >= {"strides", "einsum", "expand", "dot", "layers", "matmul",
                                   "init", "optim"}  # fmt: skip
    assert ["layers", "calls torch.Tensor.clamp"] not in findings
    assert ["matmul", "calls torch.mm"] in findings
    with observe() as findings:
        a[0] @ a[1]  # two vectors: a dot product, not a matrix product
    assert findings == [["dot", "calls torch.Tensor.matmul"]]


def test_observer_sees_backward_and_autograd_grad() -> None:
    w = torch.ones(2, requires_grad=True)
    with observe() as findings:
        (w * w).sum().backward()
    assert "autograd" in _families(findings)
    w = torch.ones(2, requires_grad=True)
    with observe() as findings:
        torch.autograd.grad((w**3).sum(), w)
    assert "autograd" in _families(findings)


def test_observer_is_silent_on_allowed_routines_and_leaves_nothing_installed() -> None:
    original = np.linalg._umath_linalg.eigh_lo
    with observe() as findings:
        v = torch.randn(2, dtype=torch.float64)
        torch.linalg.vector_norm(A @ v)
        torch.linalg.qr(A)
        np.linalg.norm(A.numpy()[0])
    assert findings == [
        ["matmul", "calls torch.Tensor.matmul"]
    ]  # named; banned only where a set says
    assert np.linalg._umath_linalg.eigh_lo is original
    assert not getattr(torch.optim.SGD.step, "__coursekit_trap__", False)
    assert not getattr(torch.broadcast_shapes, "__coursekit_trap__", False)
    assert torch._C._len_torch_function_stack() == 0
    assert torch._C._len_torch_dispatch_stack() == 0
    with observe() as after:
        pass
    torch.linalg.eigvalsh(A)  # outside the block: not recorded
    assert after == []


def _power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        w = A @ v
        v = w / torch.linalg.vector_norm(w)
    return v @ (A @ v)


def test_check_passes_a_right_power_method(capsys) -> None:
    def power_method(A, k):
        return _power_method(A, k)

    results = check(power_method)
    assert [r.part for r in results] == [
        "power_method_diagonal",
        "power_method_float64",
        "power_method_float32",
        "power_method_small_gap",
        "power_method_tiny_scale",
    ]
    assert all(r.passed and not r.flags for r in results)
    assert "5 of 5 parts pass" in capsys.readouterr().out


def test_check_flags_eigvalsh_whatever_it_is_called(capsys) -> None:
    from torch.linalg import eigvalsh as top

    def power_method(A, k):
        return top(A)[-1]

    results = check(power_method)
    assert all(r.passed for r in results)  # right numbers ...
    assert all(r.flags for r in results)  # ... but grading gives 0
    out = capsys.readouterr().out
    assert "power_method calls torch.linalg.eigvalsh (" in out  # grading's own words, op named
    assert "which grading does not allow" in out


def test_check_states_the_tolerance_grading_uses() -> None:
    def power_method(A, k):
        return _power_method(A, 5)  # too few iterations for the small gap

    results = {r.part: r for r in check(power_method, verbose=False)}
    small = results["power_method_small_gap"]
    assert not small.passed
    assert f"{RULES['ps1_power_method'].tolerances['float64']:g}" in small.message


def test_check_flags_autograd_in_gradients_only() -> None:
    def sigmoid(z):
        return torch.sigmoid(z)

    def forward(x, W1, b1, W2, b2):
        return sigmoid(x @ W1.T + b1) @ W2.T + b2

    def mse_loss(pred, y):
        return ((pred - y) ** 2).mean()

    def gradients(x, y, W1, b1, W2, b2):
        params = [p.detach().clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
        return torch.autograd.grad(mse_loss(forward(x, *params), y), params)

    def train(x, y, W1, b1, W2, b2, lr, steps):
        losses = []
        for _ in range(steps):
            loss = mse_loss(forward(x, W1, b1, W2, b2), y)
            losses.append(loss.item())
            for p in (W1, b1, W2, b2):
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in (W1, b1, W2, b2):
                    p -= lr * p.grad
        return losses

    results = {r.part: r for r in check(sigmoid, forward, mse_loss, gradients, train)}
    assert all(r.passed for r in results.values())
    flagged = {part for part, r in results.items() if r.flags}
    assert flagged == {"ps3_gradients_output", "ps3_gradients_hidden", "ps3_gradients_single"}


def test_check_flags_the_course_package_in_a_helper() -> None:
    def helper(a):
        return check_module.math.sqrt(float((a * a).sum()))  # uses fromscratch (the module)

    def best_rank_approximation(A, r):
        helper(A)
        U, S, Vh = torch.linalg.svd(A, full_matrices=False)
        return (U[:, :r] * S[:r]) @ Vh[:r, :]

    results = check(best_rank_approximation, verbose=False)
    assert all(r.passed for r in results)
    assert all(any("fromscratch" in f for f in r.flags) for r in results)


def test_check_reports_the_full_matrices_crash() -> None:
    def best_rank_approximation(A, r):
        U, S, Vh = torch.linalg.svd(A)  # full_matrices=True by default
        return (U[:, :r] * S[:r]) @ Vh[:r, :]

    results = {r.part: r for r in check(best_rank_approximation, verbose=False)}
    assert not results["ps2_edge_cases"].passed
    assert "raised RuntimeError" in results["ps2_edge_cases"].message
    assert results["ps2_optimal_square"].passed


def test_check_refuses_functions_of_no_problem_set() -> None:
    def unrelated(x):
        return x

    with pytest.raises(ValueError, match="one problem set"):
        check(unrelated)


def test_check_and_grading_share_the_column_vector_rule(capsys) -> None:
    """A (d, 1) column vector normalised with the matrix 2-norm is the vector norm: grading's
    traps accept it, so check() must not flag it either (one implementation: fromscratch.traps)."""

    def power_method(A, k):
        v = torch.ones(A.shape[0], 1, dtype=A.dtype)
        for _ in range(k):
            w = A @ v
            v = w / torch.linalg.norm(w, ord=2)
        return (v.T @ A @ v).squeeze()

    results = check(power_method)
    assert all(r.passed and not r.flags for r in results)


def test_check_sees_scikit_learn_routes_and_removes_its_traps() -> None:
    import numpy
    from sklearn.utils.extmath import randomized_svd

    before = (numpy.linalg.svd, numpy.linalg._umath_linalg.svd_f)

    def power_method(A, k):
        _, s, _ = randomized_svd(A.numpy(), 1, random_state=0)
        return torch.tensor(s[0], dtype=A.dtype)

    results = check(power_method, verbose=False)
    assert all(r.flags for r in results)
    assert (numpy.linalg.svd, numpy.linalg._umath_linalg.svd_f) == before


def test_every_routine_api_families_names_is_recognised_when_called() -> None:
    """Each name in API_FAMILIES that exists in this torch denotes a routine the traps classify
    under its family (by identity, whatever torch.overrides calls it)."""
    import importlib

    from fromscratch import traps

    missing = []
    for name, families in traps._api_names().items():
        owner, _, attr = name.rpartition(".")
        routine = getattr(traps._resolve(importlib, owner), attr, None)
        if routine is None:
            continue
        recorder = traps.Traps()
        traps._classify_api(recorder, routine, ())
        if not {family for family, _ in recorder.findings} >= set(families):
            missing.append(name)
    assert not missing, missing
