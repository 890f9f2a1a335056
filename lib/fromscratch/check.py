"""Check a problem set before you submit: the grading rules and the visible tests, in your notebook.

The last cell of every problem set runs ``check(...)`` with your graded functions::

    from fromscratch.check import check
    check(power_method)

For every graded part it prints whether your function passes the public tests of that part, what
failed, and what grading would flag: a routine the set forbids inside that function ("power_method
calls torch.linalg.eigvalsh, which grading does not allow: ..."). Forbidden routines are observed
while your function runs, whatever name you imported them under, by the traps grading installs
(``fromscratch.traps.observe``). The rules and tolerances are those of ``fromscratch.rules``,
which grading uses too; the hidden tests use other inputs of the same kinds (different for every
student and submission), so passing here is necessary, not sufficient.

Taught in: the problem sets (the Exercises part of the book).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from fromscratch.rules import FAMILY_TEXT, PS1, PS2, PS3, RULES, SetRules
from fromscratch.traps import api_routine, observe

__all__ = ["Fail", "PartResult", "Runner", "check", "observe"]

_COURSE_PACKAGES = ("fromscratch", "coursekit")


def _course_code(function: Callable) -> list[tuple[str, str]]:
    """(family, text) for what ``function`` (or a helper it calls by name) names: the course's
    own packages ("reference"), and ready-made routines of ``API_FAMILIES`` bound to a name
    before the call (``from torch import broadcast_shapes as combine`` in an earlier cell, which
    ``observe`` cannot wrap after the fact; grading's traps are installed before your cells
    run, so grading sees it run)."""
    seen, found, todo = set(), [], [function]
    while todo:
        f = todo.pop()
        code, glob = getattr(f, "__code__", None), getattr(f, "__globals__", {})
        if code is None or id(f) in seen:
            continue
        seen.add(id(f))
        cells = dict(zip(code.co_freevars, getattr(f, "__closure__", None) or (), strict=False))
        for name in (*code.co_names, *cells):
            try:
                value = cells[name].cell_contents if name in cells else glob.get(name)
            except ValueError:  # an empty closure cell
                continue
            module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
            routine = api_routine(value) if callable(value) else None
            if isinstance(module, str) and module.split(".")[0] in _COURSE_PACKAGES:
                found.append(("reference", f"uses {module.split('.')[0]} ({name})"))
            elif routine is not None:
                found += [(family, f"calls {routine[0]} (as {name})") for family in routine[1]]
            elif callable(value) and getattr(value, "__code__", None) is not None:
                todo.append(value)
    return list(dict.fromkeys(found))


# ----------------------------------------------------------------------------- one part


class Fail(Exception):
    """A public test of a part failed; the message says what and what to do."""


@dataclass
class PartResult:
    """What ``check`` found for one graded part."""

    part: str
    function: str
    passed: bool
    message: str = ""
    flags: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.flags:
            outcome = "passes the public tests" if self.passed else self.message
            return (
                f"✘ {self.part}: {outcome}; but grading scores it 0: {self.function} uses a"
                " routine this set forbids (below)."
            )
        return f"✔ {self.part}: passed" if self.passed else f"✘ {self.part}: {self.message}"


class Runner:
    """Calls the student's functions under the observer and collects findings per function."""

    def __init__(self, rules: SetRules, functions: dict[str, Callable]) -> None:
        self.rules = rules
        self.functions = functions
        self.findings: dict[str, list[tuple[str, str]]] = {}

    def call(self, function: str, *args: Any, driver: Callable[..., Any] | None = None) -> Any:
        """``function(*args)`` observed (or ``driver(function, *args)`` for a graded class, as
        grading drives it); a raised exception becomes a ``Fail`` naming it."""
        f = self.functions.get(function)
        if f is None:
            raise Fail(f"{function} is not defined: pass it to check(...) after defining it.")
        copies = [a.detach().clone().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor)
                  else a for a in args]  # fmt: skip
        with observe() as seen:
            try:
                result = driver(f, *copies) if driver is not None else f(*copies)
            except Exception as exc:  # noqa: BLE001  (reported to the student, like grading does)
                raise Fail(f"{function} raised {type(exc).__name__}: {exc}") from None
            finally:
                found = self.findings.setdefault(function, [])
                found += [(fam, text) for fam, text in seen if (fam, text) not in found]
        self.last_args = copies
        return result

    def flags(self, function: str) -> list[str]:
        banned = self.rules.banned(function)
        findings = list(self.findings.get(function, []))
        if function in self.functions:
            findings += _course_code(self.functions[function])
        return [
            f"{function} {text}, which grading does not allow: this exercise does not allow code"
            f" that {FAMILY_TEXT[family]} inside {function}."
            for family, text in dict.fromkeys(findings)
            if family in banned
        ]


def _number(x: Any) -> float:
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            raise Fail(f"returned a tensor of shape {tuple(x.shape)}; expected one number.")
        return float(x.reshape(()).real)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise Fail(f"returned {type(x).__name__}; expected a 0-dim tensor or a float.")


def _rel(x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor | None = None) -> float:
    x, y = x.detach().double(), y.detach().double()
    denom = float(torch.linalg.vector_norm(y if scale is None else scale.double()))
    diff = float(torch.linalg.vector_norm(x - y))
    return diff / denom if denom else (0.0 if diff == 0 else math.inf)


def _known(d: int, eigenvalues: list[float], seed: int, dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    lam = torch.tensor(eigenvalues, dtype=torch.float64)
    a = q @ torch.diag(lam) @ q.T  # (d, d)
    return ((a + a.T) / 2).to(dtype)


def _dtype_tol(rules: SetRules, dtype: torch.dtype) -> float:
    return rules.tolerances["float32" if dtype == torch.float32 else "float64"]


# ----------------------------------------------------------------------------- ps1


def _ps1_parts(run: Runner) -> dict[str, Callable[[], None]]:
    def case(a: torch.Tensor, k: int, top: float) -> None:
        est = _number_of(run.call("power_method", a, k), "power_method")
        tol = _dtype_tol(PS1, a.dtype)
        if not abs(est - top) <= tol * top:
            kind = str(a.dtype).removeprefix("torch.")
            raise Fail(
                f"on a public {a.shape[0]}×{a.shape[0]} {kind} matrix with λ₁ = {top:g} and"
                f" k = {k}, power_method returned {est!r}; grading needs |estimate − λ₁| ≤"
                f" {tol:g}·λ₁."
            )

    return {
        "power_method_diagonal": lambda: case(
            torch.diag(torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)), 50, 3.0
        ),
        "power_method_float64": lambda: case(
            _known(5, [4.0, 2.0, 1.0, 0.5, 0.1], 1, torch.float64), 60, 4.0
        ),
        "power_method_float32": lambda: case(
            _known(5, [4e4, 2e4, 1e4, 5e3, 1e3], 2, torch.float32), 200, 4e4
        ),
        "power_method_small_gap": lambda: case(
            _known(4, [1.0, 0.9, 0.5, 0.2], 3, torch.float64), 400, 1.0
        ),
        "power_method_tiny_scale": lambda: case(
            _known(4, [1e-30, 5e-31, 0.0, 0.0], 4, torch.float64), 100, 1e-30
        ),
    }


def _number_of(x: Any, function: str) -> float:
    try:
        return _number(x)
    except Fail as fail:
        raise Fail(f"{function} {fail}") from None


# ----------------------------------------------------------------------------- ps2


def _with_singular_values(m: int, n: int, sigma: list[float], seed: int, dtype: torch.dtype):
    k = min(m, n)
    g = torch.Generator().manual_seed(seed)
    q1, _ = torch.linalg.qr(torch.randn(m, k, generator=g, dtype=torch.float64))  # (m, k)
    q2, _ = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))  # (n, k)
    s = torch.tensor(sigma, dtype=torch.float64)  # (k,)
    return ((q1 * s) @ q2.T).to(dtype)  # (m, k) @ (k, n) -> (m, n)


def _ps2_parts(run: Runner) -> dict[str, Callable[[], None]]:
    name = "best_rank_approximation"

    def result(a: torch.Tensor, r: int) -> torch.Tensor:
        b = run.call(name, a, r)
        where = f"for a public {tuple(a.shape)} {str(a.dtype).removeprefix('torch.')} A, r = {r}"
        if not isinstance(b, torch.Tensor):
            raise Fail(f"{where}: {name} returned {type(b).__name__}; expected a tensor.")
        if b.shape != a.shape:
            raise Fail(
                f"{where}: the result has shape {tuple(b.shape)}; expected {tuple(a.shape)}."
            )
        return b

    def best(a: torch.Tensor, r: int) -> torch.Tensor:
        u, s, vh = torch.linalg.svd(a.double(), full_matrices=False)
        return (u[:, :r] * s[:r]) @ vh[:r, :]  # (m, r) @ (r, n) -> (m, n)

    def optimal(a: torch.Tensor, r: int) -> None:
        b = result(a, r)
        tol = _dtype_tol(PS2, a.dtype)
        rel = _rel(b, best(a, r), a)
        if not rel <= tol:
            kind = str(a.dtype).removeprefix("torch.")
            raise Fail(
                f"for a public {tuple(a.shape)} {kind} A and r = {r},"
                f" ‖result − A_r‖_F / ‖A‖_F = {rel:.2g}; grading needs ≤ {tol:g}."
            )

    def shape_dtype() -> None:
        for m, n in ((5, 5), (6, 3), (3, 6)):
            for dtype in (torch.float32, torch.float64):
                sigma = [3.0, 2.0, 1.0, 0.5, 0.25][: min(m, n)]
                a = _with_singular_values(m, n, sigma, m * n, dtype)
                before = a.clone()
                b = result(a, 2)
                if b.dtype != a.dtype:
                    raise Fail(f"for a {dtype} A the result is {b.dtype}; keep the dtype of A.")
                if not torch.equal(run.last_args[0], before):
                    raise Fail(f"{name} modified A in place; work on A.clone().")

    def rank() -> None:
        a = _with_singular_values(6, 4, [4.0, 3.0, 2.0, 1.0], 0, torch.float64)
        for r in range(5):
            b = result(a, r)
            sv = torch.linalg.svdvals(b.double())
            got = int((sv > PS2.tolerances["rank_float64"] * 4.0).sum())
            if got != r:
                raise Fail(f"for a public (6, 4) float64 A and r = {r}, the result has rank {got}.")

    def square() -> None:
        a = _with_singular_values(5, 5, [5.0, 4.0, 3.0, 2.0, 1.0], 1, torch.float64)
        for r in range(1, 5):
            optimal(a, r)

    def rectangular() -> None:
        for m, n, sigma in ((7, 4, [6.0, 4.0, 2.5, 1.0]), (3, 6, [3.0, 2.0, 0.5])):
            for dtype in (torch.float64, torch.float32):
                a = _with_singular_values(m, n, sigma, 2, dtype)
                for r in range(1, len(sigma)):
                    optimal(a, r)

    def edges() -> None:
        for m, n, dtype in ((4, 6, torch.float64), (6, 3, torch.float32), (4, 4, torch.float64)):
            a = _with_singular_values(m, n, [3.0, 2.0, 1.5, 1.0][: min(m, n)], 3, dtype)
            for r in (0, min(m, n), max(m, n) + 1):
                optimal(a, r)

    return {
        "ps2_shape_dtype": shape_dtype,
        "ps2_rank": rank,
        "ps2_optimal_square": square,
        "ps2_optimal_rectangular": rectangular,
        "ps2_edge_cases": edges,
    }


# ----------------------------------------------------------------------------- ps3


def _ps3_parts(run: Runner) -> dict[str, Callable[[], None]]:
    n, d, h, o = 7, 5, 4, 3

    def problem(seed: int, dtype: torch.dtype, single: bool = False):
        g = torch.Generator().manual_seed(seed)
        shapes = [
            (d,) if single else (n, d),
            (o,) if single else (n, o),
            (h, d),
            (h,),
            (o, h),
            (o,),
        ]
        return [torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for s in shapes]

    def ref_forward(x, W1, b1, W2, b2):
        return torch.sigmoid(x @ W1.T + b1) @ W2.T + b2  # (n, h) @ (h, o) -> (n, o)

    def ref_grads(x, y, *params):
        ps = [p.detach().double().requires_grad_(True) for p in params]
        loss = ((ref_forward(x.double(), *ps) - y.double()) ** 2).mean()
        return torch.autograd.grad(loss, ps)

    def close(what: str, got: Any, want: torch.Tensor, dtype: torch.dtype) -> None:
        tol = _dtype_tol(PS3, dtype)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise Fail(f"{what}: got {shape}, expected shape {tuple(want.shape)}.")
        rel = _rel(got, want)
        if not rel <= tol:
            kind = str(dtype).removeprefix("torch.")
            raise Fail(f"{what} ({kind}): relative error {rel:.2g}; grading needs ≤ {tol:g}.")

    def sigmoid_values() -> None:
        for dtype in (torch.float64, torch.float32):
            z = torch.tensor([[0.0, 5.0, -5.0, 2.0], [-1.0, 0.5, 3.0, -2.5]], dtype=dtype)
            s = run.call("sigmoid", z)
            if not isinstance(s, torch.Tensor) or s.dtype != dtype or s.shape != z.shape:
                raise Fail(f"sigmoid must return a tensor with the shape and dtype of z ({dtype}).")
            atol = PS3.tolerances[f"sigmoid_atol_{str(dtype).removeprefix('torch.')}"]
            err = float((s.double() - torch.sigmoid(z.double())).abs().max())
            if not err <= atol:
                raise Fail(f"sigmoid is off by {err:.2g} ({dtype}); grading needs ≤ {atol:g}.")

    def sigmoid_stable() -> None:
        for dtype in (torch.float32, torch.float64):
            z = torch.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
            s = run.call("sigmoid", z)
            if not isinstance(s, torch.Tensor) or not bool(torch.isfinite(s).all()):
                raise Fail(f"sigmoid gives nan or inf for |z| up to 1000 ({dtype}).")
            atol = PS3.tolerances[f"sigmoid_atol_{str(dtype).removeprefix('torch.')}"]
            if float((s.double() - torch.sigmoid(z.double())).abs().max()) > atol:
                raise Fail(f"sigmoid's limits at ±1000 are wrong ({dtype}): expect 0 and 1.")

    def forward(single: bool) -> None:
        for seed, dtype in ((0, torch.float64), (1, torch.float32)):
            x, _, *params = problem(seed, dtype, single)
            close("forward", run.call("forward", x, *params),
                  ref_forward(*(t.double() for t in (x, *params))), dtype)  # fmt: skip

    def mse() -> None:
        for seed, dtype, shape in ((0, torch.float64, (n, o)), (1, torch.float32, (n, o)),
                                   (2, torch.float64, (o,))):  # fmt: skip
            g = torch.Generator().manual_seed(seed)
            pred, y = (torch.randn(shape, generator=g, dtype=torch.float64).to(dtype) for _ in "py")
            out = run.call("mse_loss", pred, y)
            if not isinstance(out, torch.Tensor):
                raise Fail(f"mse_loss returned {type(out).__name__}; return a 0-dim tensor.")
            close("mse_loss", out.reshape(()), ((pred.double() - y.double()) ** 2).mean(), dtype)

    def grads(names: tuple[int, ...], single: bool = False) -> Callable[[], None]:
        labels = ("dW1", "db1", "dW2", "db2")

        def run_part() -> None:
            cases = [(0, torch.float64)] + ([] if single else [(1, torch.float32)])
            for seed, dtype in cases:
                x, y, *params = problem(seed, dtype, single)
                got = run.call("gradients", x, y, *params)
                if not isinstance(got, (tuple, list)) or len(got) != 4:
                    raise Fail("gradients must return the tuple (dW1, db1, dW2, db2).")
                want = ref_grads(x.reshape(-1, d), y.reshape(-1, o), *params)
                for i in names:
                    close(labels[i], got[i], want[i], dtype)

        return run_part

    def train(what: str) -> Callable[[], None]:
        def run_part() -> None:
            lr, steps = 0.5, 6
            for seed, dtype in ((0, torch.float64), (1, torch.float32)):
                x, y, *init = problem(seed, dtype)
                params = [p.clone().requires_grad_(True) for p in init]
                losses = run.call("train", x, y, *params, lr, steps)
                ref = [p.double().clone().requires_grad_(True) for p in init]
                want = []
                for _ in range(steps):
                    loss = ((ref_forward(x.double(), *ref) - y.double()) ** 2).mean()
                    want.append(float(loss.detach()))
                    gs = torch.autograd.grad(loss, ref)
                    with torch.no_grad():
                        for p, g in zip(ref, gs, strict=True):
                            p -= lr * g
                if what == "losses":
                    if not isinstance(losses, list) or not all(type(v) is float for v in losses):
                        raise Fail(f"train must return a list of {steps} Python floats.")
                    close("the losses", torch.tensor(losses), torch.tensor(want), dtype)
                else:
                    for name, p, r in zip(("W1", "b1", "W2", "b2"), run.last_args[2:6], ref,
                                          strict=True):  # fmt: skip
                        close(f"{name} after train", p.detach(), r.detach(), dtype)

        return run_part

    return {
        "ps3_sigmoid_values": sigmoid_values,
        "ps3_sigmoid_stable": sigmoid_stable,
        "ps3_forward_batch": lambda: forward(False),
        "ps3_forward_single": lambda: forward(True),
        "ps3_mse_loss": mse,
        "ps3_gradients_output": grads((2, 3)),
        "ps3_gradients_hidden": grads((0, 1)),
        "ps3_gradients_single": grads((0, 1, 2, 3), single=True),
        "ps3_train_losses": train("losses"),
        "ps3_train_updates": train("updates"),
    }


# ----------------------------------------------------------------------------- check

_PARTS = {
    PS1.assignment_id: _ps1_parts,
    PS2.assignment_id: _ps2_parts,
    PS3.assignment_id: _ps3_parts,
}


def _parts_of(rules: SetRules, run: Runner) -> dict[str, Callable[[], None]]:
    """The public tests of a set: here for the problem sets, in ``fromscratch.selfcheck.<id>``
    (its ``parts(run)``) for the chapter sets."""
    if rules.assignment_id in _PARTS:
        return _PARTS[rules.assignment_id](run)
    module = importlib.import_module(f"fromscratch.selfcheck.{rules.assignment_id}")
    return module.parts(run)


def _function_of(part: str, rules: SetRules) -> str:
    """The graded function a part tests: the longest function name the part starts with
    ("ps3_train_losses" -> "train", "slice_view_negative_step" -> "slice_view"), or the set's
    only function."""
    if len(rules.functions) == 1:
        return rules.functions[0]
    name = part.removeprefix("ps3_")
    return max((f for f in rules.functions if name.startswith(f)), key=len)


class Report(list):
    """The ``PartResult`` of every graded part; shown in a notebook as one summary line."""

    def __repr__(self) -> str:
        passed = sum(r.passed and not r.flags for r in self)
        return f"<check: {passed} of {len(self)} parts pass the public checks>"


def check(*functions: Callable, verbose: bool = True) -> Report:
    """Run the public tests and the grading rules of the problem set these functions belong to.

    Args:
        *functions: Your graded functions, e.g. ``check(power_method)`` or ``check(sigmoid,
            forward, mse_loss, gradients, train)``; the problem set is recognised from their names.
        verbose: Print one line per graded part (and what grading would flag).

    Returns:
        A ``Report``: one ``PartResult`` per graded part, in notebook order.
    """
    given = {getattr(f, "__name__", ""): f for f in functions}
    matches = [r for r in RULES.values() if set(given) & set(r.functions)]
    if len(matches) != 1:
        raise ValueError(
            "check(...) takes the graded functions of one problem set, e.g. check(power_method);"
            f" got {sorted(given)}."
        )
    rules = matches[0]
    run = Runner(rules, given)
    results = Report()
    for part, test in _parts_of(rules, run).items():
        function = _function_of(part, rules)
        try:
            test()
            result = PartResult(part, function, True)
        except Fail as fail:
            result = PartResult(part, function, False, str(fail))
        results.append(result)
    for result in results:  # a forbidden routine costs every part of that function
        result.flags = run.flags(result.function)
    if verbose:
        passed = sum(r.passed and not r.flags for r in results)
        print(f"{rules.assignment_id}: {passed} of {len(results)} parts pass the public checks.")
        for result in results:
            print(result)
        for flag in dict.fromkeys(f for r in results for f in r.flags):
            print(f"grading would flag: {flag}")
        print(
            "Grading runs the same kinds of tests on hidden inputs (different for every student);"
            " see the Rules cell at the top for tolerances and partial credit."
        )
    return results
