"""Grader for the chapter 5 set: the backward pass by hand (MSE, ReLU, linear, and the chain).

Student API (the chapter's conventions: rows are samples, ``w`` stored as ``(d_in, d_out)``):

- ``mse_backward(pred, target)``: dL/dpred for L = mean((pred − target)²) over ALL N entries,
  that is 2(pred − target)/N, shape of ``pred``.
- ``relu_backward(x, grad_out)``: grad_out ⊙ 1[x > 0]: the derivative at the kink x == 0 is 0
  (the chapter's and torch's convention), shape of ``x``.
- ``linear_backward(x, w, b, grad_out)``: (grad_x, grad_w, grad_b) for y = x @ w + b, that is
  (G wᵀ, xᵀ G, G summed over the rows), shapes (n, d_in), (d_in, d_out), (d_out,).

Every expected value is computed here, in the trusted process, in float64 by autograd from the
tensors actually handed out (float32 cases are upcast, so the expected value is exact for those
float32 numbers). A returned tensor passes when it has the expected shape and dtype, is finite,
and ‖got − expected‖ ≤ tol · ‖expected‖ (Frobenius norms; tol from ``fromscratch.rules.CH05``:
1e-12 for float64, 1e-4 for float32 inputs).

Why these tolerances hold for every honest route. Every entry is either an exact operation (the
ReLU mask; a product with 0 or 1), one subtraction and one scaling (MSE: a few u relative per
entry), or a sum of at most 8 products (xᵀG, G wᵀ, the row sums). A sum of k products costs at
most about k·u·Σ|terms| per entry, so the norm-wise error is at most k·u·‖|A||B|‖/‖AB‖ relative
(u = 2⁻²⁴ ≈ 6e-8 in float32, 2⁻⁵³ in float64). That ratio is large only when a sum nearly
cancels (a bias gradient whose column of G sums to almost 0), so the hidden linear and chain
cases are drawn until the worst-case bound (``linear_rounding_bound``, ``chain_rounding_bound``:
the chain propagates the forward's and every step's rounding to first order) is at most tol/10;
about 1 % of float32 draws are replaced, no float64 ones. Computing in float64 and casting back
is more accurate still. Every mistake the messages name changes the result by a factor (½, n,
N, −1), a transpose (a different shape: n, d_in, d_out are distinct) or mask entries of size
≥ 0.05, far outside both tolerances.

Hidden inputs per submission: shapes and tensors are drawn from ``derive_seed(seed, label)``,
one label per case; pre-activations handed to ``relu_backward`` in the value and chain parts
stay at least 0.05 away from 0 (so float32 and float64 agree on every mask entry), and the kink
part has exact zeros in x. Partial credit per case (k of n cases).

Taught in: chapter 5, The backward pass, by hand (its Exercises section).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    StudentError,
    cases_check,
    derive_seed,
    seed_of,
)
from fromscratch.rules import CH05 as RULES

TOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
SHORTCUT_HINTS = {
    "autograd": "derive the gradient with the chain rule and write it with tensor operations"
    " (autograd is for checking your result outside the graded function)",
    "reference": "write the backward pass yourself (fromscratch.layers has the chapter's own"
    " versions; the exercise is to write them)",
}
CALL_TIMEOUT = 10.0  # seconds per call; each call takes milliseconds
MARGIN = 0.05  # |x| ≥ MARGIN away from the kink where the mask must not depend on rounding


def _dt(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def _rel(x: torch.Tensor, y: torch.Tensor) -> float:
    """‖x − y‖ / ‖y‖ in float64 (0 if both are zero, ∞ if only y is)."""
    x, y = x.detach().double(), y.detach().double()
    denom, diff = float(torch.linalg.vector_norm(y)), float(torch.linalg.vector_norm(x - y))
    if denom == 0.0:
        return 0.0 if diff == 0.0 else math.inf
    return diff / denom


def close(got: torch.Tensor, want: torch.Tensor, dtype: torch.dtype) -> bool:
    """The grading rule: same shape, finite, ‖got − want‖ ≤ tol(dtype) · ‖want‖."""
    return (
        isinstance(got, torch.Tensor)
        and got.shape == want.shape
        and bool(torch.isfinite(got).all())
        and _rel(got, want) <= TOL[dtype]
    )


def _near(got: torch.Tensor, want: torch.Tensor, tol: float = 1e-4) -> bool:
    """Loose comparison used only to recognise a named mistake."""
    return got.shape == want.shape and bool(torch.isfinite(got).all()) and _rel(got, want) <= tol


def _tensor(got: object, what: str, shape: tuple[int, ...], dtype: torch.dtype, where: str):
    """``got`` as a tensor of the right shape and dtype, or a GradingFailure naming the problem."""
    if got is None:
        raise GradingFailure(f"{where}: {what} is None; did you forget `return`?")
    if not isinstance(got, torch.Tensor):
        raise GradingFailure(
            f"{where}: {what} is a {type(got).__name__}; return a torch tensor of shape {shape}."
        )
    if _shape(got) != shape:
        if got.numel() == 1:
            raise GradingFailure(
                f"{where}: {what} is a single number; a gradient has the shape of the tensor it"
                f" differentiates by, {shape}."
            )
        raise GradingFailure(f"{where}: {what} has shape {_shape(got)}; expected {shape}.")
    if got.dtype != dtype:
        raise GradingFailure(
            f"{where}: {what} is {_dt(got.dtype)}; keep the dtype of the inputs ({_dt(dtype)})."
        )
    if not bool(torch.isfinite(got).all()):
        raise GradingFailure(f"{where}: {what} contains nan or inf.")
    return got


def _call(student, name: str, *args, where: str, hint: str = ""):
    try:
        return student.call(name, *args, timeout=CALL_TIMEOUT)
    except StudentError as exc:
        text = str(exc).strip()
        text = text if text.endswith(".") else text + "."
        raised = " raised " in text
        raise type(exc)(f"{where}: {text}{hint if raised else ''}") from None


def _gen(seed: int, label: str) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, label))


def _randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def _away_from_zero(g: torch.Generator, *shape: int) -> torch.Tensor:
    """Standard-normal-like entries with |x| ≥ MARGIN: no mask entry depends on rounding."""
    z = _randn(g, *shape)
    return torch.sign(z) * (MARGIN + z.abs())


def _pick(g: torch.Generator, options: tuple[int, ...]) -> int:
    return options[int(torch.randint(len(options), (), generator=g))]


def _unit_roundoff(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps / 2  # u = 2⁻²⁴ (float32), 2⁻⁵³ (float64)


def _ratio(bound: torch.Tensor, value: torch.Tensor) -> float:
    norm = float(value.norm())
    return math.inf if norm == 0.0 else float(bound.norm()) / norm


def linear_rounding_bound(x: torch.Tensor, w: torch.Tensor, g: torch.Tensor) -> float:
    """Worst-case relative (norm-wise) rounding error, to first order, of an honest G wᵀ, xᵀ G and
    row sum of G in the dtype of x: a sum of k products costs at most k·u·Σ|terms| per entry."""
    u = _unit_roundoff(x.dtype)
    x, w, g = x.double(), w.double(), g.double()
    n, d_out = g.shape
    return max(
        d_out * u * _ratio(g.abs() @ w.abs().T, g @ w.T),
        n * u * _ratio(x.abs().T @ g.abs(), x.T @ g),
        n * u * _ratio(g.abs().sum(0), g.sum(0)),
    )


# ---------------------------------------------------------------------------------------------
# mse_backward
# ---------------------------------------------------------------------------------------------

MSE_CASES = (("mse/0", torch.float64), ("mse/1", torch.float32))


def mse_inputs(seed: int, label: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """pred, target of shape (n, d_out): n ∈ {5..8}, d_out ∈ {3, 4}, so 2, d_out, n and N = n·d_out
    are distinct factors and each mistaken divisor is recognisable from the ratio."""
    g = _gen(seed, label)
    n, d_out = _pick(g, (5, 6, 7, 8)), _pick(g, (3, 4))
    return _randn(g, n, d_out).to(dtype), _randn(g, n, d_out).to(dtype)


def ref_mse_backward(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = pred.detach().double().requires_grad_(True)
    ((p - target.double()) ** 2).mean().backward()
    return p.grad


def _mse_mistake(got: torch.Tensor, want: torch.Tensor, n: int, d_out: int) -> str:
    """The likely mistake when ``got`` is a multiple of the right gradient (else a generic hint)."""
    g, w = got.double(), want.double()
    c = float((g * w).sum() / (w * w).sum())
    N = n * d_out
    if _near(g, c * w, 1e-3):
        named = [
            (
                0.5,
                "the factor 2 is missing: d/dp (p − t)² = 2(p − t), so the gradient is"
                " 2(pred − target)/N",
            ),
            (
                float(d_out),
                f"you divided by the number of rows n = pred.shape[0]; the mean is"
                f" over ALL N = n·d_out entries (here n = {n}, d_out = {d_out}), use pred.numel()",
            ),
            (
                float(n),
                "you divided by the number of columns d_out only; the mean is over ALL"
                " N = n·d_out entries, use pred.numel()",
            ),
            (
                float(N),
                "this is the gradient of the SUM of squares, 2(pred − target); the loss"
                " is the mean, so divide by N = pred.numel()",
            ),
            (N / 2, "the factor 2 and the division by N are both missing"),
            (
                -1.0,
                "the sign is flipped: differentiate by pred, 2(pred − target)/N, not"
                " 2(target − pred)/N",
            ),
            (-0.5, "the sign is flipped and the factor 2 is missing: 2(pred − target)/N"),
        ]
        for factor, text in named:
            if abs(c - factor) <= 1e-3 * abs(factor):
                return text
        return (
            f"your gradient is {c:.3g} times dL/dpred; the right one is 2(pred − target)/N with"
            " N = pred.numel()"
        )
    diff = g.reshape(-1)
    if _near(diff.abs(), w.abs().reshape(-1), 1e-3):
        return "some signs are wrong: the gradient is 2(pred − target)/N, entry by entry"
    return "the values are wrong: dL/dpred = 2(pred − target)/N, with N = pred.numel()"


def mse_case(student, label: str, dtype: torch.dtype) -> None:
    pred, target = mse_inputs(seed_of(student), label, dtype)
    n, d_out = _shape(pred)
    where = f"For pred and target of shape ({n}, {d_out}) ({_dt(dtype)})"
    got = _call(student, "mse_backward", pred, target, where=where)
    got = _tensor(got, "the result of mse_backward", (n, d_out), dtype, where)
    want = ref_mse_backward(pred, target)
    if not close(got, want, dtype):
        raise GradingFailure(f"{where}: {_mse_mistake(got, want, n, d_out)}.")


# ---------------------------------------------------------------------------------------------
# relu_backward
# ---------------------------------------------------------------------------------------------

RELU_VALUES = (("relu_values/0", torch.float64), ("relu_values/1", torch.float32))
RELU_KINK = (("relu_kink/0", torch.float64), ("relu_kink/1", torch.float32))


def relu_inputs(
    seed: int, label: str, dtype: torch.dtype, *, zeros: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """x, grad_out of shape (n, d): n ∈ {5..8}, d ∈ {3, 4}. Entries of x are at least MARGIN from
    0, except that with ``zeros`` about a third of them (at least 3) are exactly 0.0."""
    g = _gen(seed, label)
    n, d = _pick(g, (5, 6, 7, 8)), _pick(g, (3, 4))
    x = _away_from_zero(g, n, d)
    grad_out = _away_from_zero(g, n, d)  # never 0, so every mask entry shows in the result
    if zeros:
        flat = x.reshape(-1)
        k = max(3, flat.numel() // 3)
        flat[torch.randperm(flat.numel(), generator=g)[:k]] = 0.0
    return x.to(dtype), grad_out.to(dtype)


def _relu_mistake(got: torch.Tensor, x: torch.Tensor, grad_out: torch.Tensor) -> str:
    x, g = x.double(), grad_out.double()
    variants = [
        (
            g * (x >= 0),
            "at x == 0 the derivative is taken as 0 (the chapter's and torch's"
            " convention): the mask is x > 0, not x >= 0",
        ),
        ((x > 0).double(), "you returned the mask 1[x > 0] itself; multiply it by grad_out"),
        (
            (x >= 0).double(),
            "you returned a mask itself; the result is grad_out where x > 0, else 0",
        ),
        (
            g * (g > 0),
            "the mask is taken on grad_out; it belongs to the input x: grad_out where x > 0",
        ),
        (g.clamp(min=0), "that is relu(grad_out); the mask is taken on x: grad_out where x > 0"),
        (
            g * x.clamp(min=0),
            "you multiplied grad_out by relu(x); multiply by the mask 1[x > 0]"
            " (the slope of relu), not by relu's value",
        ),
        (g, "no mask was applied: relu passes the gradient only where x > 0"),
        (g * (x < 0), "the mask is reversed: keep grad_out where x > 0 and put 0 where x < 0"),
        (g * (x <= 0), "the mask is reversed: keep grad_out where x > 0 and put 0 where x <= 0"),
    ]
    for value, text in variants:
        if _near(got.double(), value, 1e-6):
            return text
    return "the values are wrong: the result is grad_out where x > 0 and 0 elsewhere"


def relu_case(student, label: str, dtype: torch.dtype, zeros: bool) -> None:
    x, grad_out = relu_inputs(seed_of(student), label, dtype, zeros=zeros)
    kind = "with some entries exactly 0" if zeros else "with no zero entries"
    where = f"For x of shape {_shape(x)} ({_dt(dtype)}, {kind})"
    got = _call(student, "relu_backward", x, grad_out, where=where)
    got = _tensor(got, "the result of relu_backward", _shape(x), dtype, where)
    want = grad_out.double() * (x > 0)
    if not close(got, want, dtype):
        raise GradingFailure(f"{where}: {_relu_mistake(got, x, grad_out)}.")


# ---------------------------------------------------------------------------------------------
# linear_backward
# ---------------------------------------------------------------------------------------------

LINEAR_CASES = (("linear/0", torch.float64), ("linear/1", torch.float32))
GRAD_NAMES = ("grad_x", "grad_w", "grad_b")


@dataclass(frozen=True)
class LinearCase:
    x: torch.Tensor  # (n, d_in)
    w: torch.Tensor  # (d_in, d_out)
    b: torch.Tensor  # (d_out,)
    grad_out: torch.Tensor  # (n, d_out)

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    def describe(self) -> str:
        (n, d_in), d_out = _shape(self.x), self.w.shape[1]
        return (
            f"For x of shape ({n}, {d_in}), w ({d_in}, {d_out}), b ({d_out},) and grad_out"
            f" ({n}, {d_out}) ({_dt(self.dtype)})"
        )


def linear_inputs(seed: int, label: str, dtype: torch.dtype) -> LinearCase:
    """n ∈ {6, 7, 8}, d_in ∈ {4, 5}, d_out ∈ {2, 3}: three distinct sizes, so every misplaced
    transpose gives a different shape (or raises). A draw whose worst-case rounding bound exceeds
    tol/10 (a row sum of grad_out that nearly cancels) is replaced by the next sub-seed's."""
    for attempt in range(1000):
        g = _gen(seed, f"{label}/{attempt}")
        n, d_in, d_out = _pick(g, (6, 7, 8)), _pick(g, (4, 5)), _pick(g, (2, 3))
        x, w = _randn(g, n, d_in), _randn(g, d_in, d_out) / math.sqrt(d_in)
        b, grad_out = 0.5 * _randn(g, d_out), _randn(g, n, d_out)
        case = LinearCase(*(t.to(dtype) for t in (x, w, b, grad_out)))
        if linear_rounding_bound(case.x, case.w, case.grad_out) <= TOL[dtype] / 10:
            return case
    raise RuntimeError(f"no admissible linear case for {label}")  # pragma: no cover


def ref_linear_backward(x, w, b, grad_out) -> tuple[torch.Tensor, ...]:
    """(grad_x, grad_w, grad_b) by autograd in float64: the vector-Jacobian product with G."""
    leaves = [t.detach().double().requires_grad_(True) for t in (x, w, b)]
    y = leaves[0] @ leaves[1] + leaves[2]
    return tuple(torch.autograd.grad(y, leaves, grad_out.double()))


SHAPE_HINT = (
    " Check the transposes against the shapes: grad_x = grad_out @ w.T is (n, d_out) @"
    " (d_out, d_in) -> (n, d_in); grad_w = x.T @ grad_out is (d_in, n) @ (n, d_out) ->"
    " (d_in, d_out); grad_b = grad_out.sum(0) is (d_out,)."
)

_LINEAR: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _linear_result(student, label: str, dtype: torch.dtype):
    """The case and the student's reply (a tuple of three tensors), one call per case and
    student, shared by the three linear parts; a failure is raised again in every part."""
    try:
        cache = _LINEAR.setdefault(student, {})
    except TypeError:  # a student object without weak references: no cache
        cache = {}
    if label not in cache:
        case = linear_inputs(seed_of(student), label, dtype)
        where = case.describe()
        try:
            got = _call(student, "linear_backward", case.x, case.w, case.b, case.grad_out,
                        where=where, hint=SHAPE_HINT)  # fmt: skip
            if not isinstance(got, (tuple, list)) or len(got) != 3:
                kind = type(got).__name__
                raise GradingFailure(
                    f"{where}: linear_backward returned a {kind}; return the tuple (grad_x,"
                    " grad_w, grad_b)."
                )
            cache[label] = (case, tuple(got), None)
        except GradingFailure as failure:
            cache[label] = (case, None, failure)
    case, got, failure = cache[label]
    if failure is not None:
        raise type(failure)(str(failure))
    return case, got


def _linear_mistake(index: int, got: torch.Tensor, want: torch.Tensor, case: LinearCase) -> str:
    n = case.x.shape[0]
    g, w = got.double(), want.double()
    name = GRAD_NAMES[index]
    if index == 1 and _near(g, w / n):
        return (
            "grad_w is divided by n: the mean of the loss is already inside grad_out (from"
            " mse_backward), so sum over the rows: grad_w = x.T @ grad_out"
        )
    if index == 2 and _near(g, w / n):
        return (
            "grad_b is the mean over the rows; the bias was broadcast to all n rows, so its"
            " gradient is the SUM over the rows, grad_out.sum(0)"
        )
    if _near(g, -w):
        return f"{name} has the wrong sign"
    if index == 1 and _near(g, (case.x.double().T @ case.grad_out.double().abs())):
        return "grad_w is wrong: grad_w = x.T @ grad_out"
    return {
        0: "grad_x is wrong: dL/dx = grad_out @ w.T (row i of x only affects row i of y)",
        1: "grad_w is wrong: dL/dw = x.T @ grad_out (each sample's contribution, summed)",
        2: "grad_b is wrong: dL/db = grad_out.sum(0), the row sums of grad_out",
    }[index]


def _shape_mistake(index: int, got: object, case: LinearCase) -> str | None:
    """A message for a wrongly shaped gradient of the linear layer, or None."""
    if not isinstance(got, torch.Tensor):
        return None
    (n, d_in), d_out = _shape(case.x), case.w.shape[1]
    shape = _shape(got)
    name = GRAD_NAMES[index]
    if index == 0 and shape == (d_in, n):
        return (
            f"grad_x has shape {shape}, the transpose of x's shape ({n}, {d_in}): compute"
            " grad_out @ w.T, which is (n, d_out) @ (d_out, d_in) -> (n, d_in)"
        )
    if index == 1 and shape == (d_out, d_in):
        return (
            f"grad_w has shape {shape}: that is nn.Linear's convention W = w.T. Here w is stored"
            f" as (d_in, d_out) = ({d_in}, {d_out}), so grad_w = x.T @ grad_out"
        )
    if index == 2 and shape == (n, d_out):
        return (
            f"grad_b has shape {shape}: sum grad_out over the batch (the rows), grad_out.sum(0),"
            f" to get the shape of b, ({d_out},)"
        )
    if index == 2 and shape == (1, d_out):
        return (
            f"grad_b has shape {shape}; b has shape ({d_out},), so sum over the rows without"
            " keepdim: grad_out.sum(0)"
        )
    if index == 2 and shape == (n,):
        return (
            f"grad_b has shape {shape}: you summed over the columns; sum over the rows (the"
            f" batch), grad_out.sum(0), shape ({d_out},)"
        )
    expected = ((n, d_in), (d_in, d_out), (d_out,))[index]
    if shape != expected:
        return f"{name} has shape {shape}; a gradient has the shape of its tensor, {expected}"
    return None


def linear_case(student, label: str, dtype: torch.dtype, index: int) -> None:
    case, got = _linear_result(student, label, dtype)
    where = case.describe()
    want = ref_linear_backward(case.x, case.w, case.b, case.grad_out)[index]
    problem = _shape_mistake(index, got[index], case)
    if problem:
        raise GradingFailure(f"{where}: {problem}.")
    mine = _tensor(got[index], GRAD_NAMES[index], _shape(want), dtype, where)
    if not close(mine, want, dtype):
        raise GradingFailure(f"{where}: {_linear_mistake(index, mine, want, case)}.")


# ---------------------------------------------------------------------------------------------
# The two-layer network, chained through the student's three functions
# ---------------------------------------------------------------------------------------------

CHAIN_CASES = (("chain/0", torch.float64), ("chain/1", torch.float32))
D_H, D_OUT = 3, 2


@dataclass(frozen=True)
class Net:
    X: torch.Tensor  # (n, d_in)
    Y: torch.Tensor  # (n, d_out)
    w1: torch.Tensor  # (d_in, d_h)
    b1: torch.Tensor  # (d_h,)
    w2: torch.Tensor  # (d_h, d_out)
    b2: torch.Tensor  # (d_out,)

    @property
    def params(self) -> tuple[torch.Tensor, ...]:
        return (self.w1, self.b1, self.w2, self.b2)

    @property
    def dtype(self) -> torch.dtype:
        return self.X.dtype


def chain_inputs(seed: int, label: str, dtype: torch.dtype) -> Net:
    """n ∈ {6, 7, 8}, d_in ∈ {4, 5}, d_h = 3, d_out = 2; Kaiming-scaled weights. The draw is
    repeated (next sub-seed) until every pre-activation Z = X w1 + b1 is at least MARGIN from 0
    in float64, so the ReLU mask is the same in float32 and float64, and the chain's worst-case
    rounding bound (``chain_rounding_bound``) is at most tol/10."""
    for attempt in range(1000):
        g = _gen(seed, f"{label}/{attempt}")
        n, d_in = _pick(g, (6, 7, 8)), _pick(g, (4, 5))
        X, Y = _randn(g, n, d_in), _randn(g, n, D_OUT)
        w1, b1 = _randn(g, d_in, D_H) * math.sqrt(2 / d_in), 0.1 * _randn(g, D_H)
        w2, b2 = _randn(g, D_H, D_OUT) * math.sqrt(2 / D_H), 0.1 * _randn(g, D_OUT)
        net = Net(*(t.to(dtype) for t in (X, Y, w1, b1, w2, b2)))
        z = net.X.double() @ net.w1.double() + net.b1.double()
        if float(z.abs().min()) < MARGIN or not bool((z > 0).any()):
            continue
        if chain_rounding_bound(net) <= TOL[dtype] / 10:
            return net
    raise RuntimeError(f"no admissible network for {label}")  # pragma: no cover


def chain_rounding_bound(net: Net) -> float:
    """Worst-case relative rounding error, to first order, of dw1, db1, dw2, db2 computed in the
    net's dtype (the forward Z, H, Ŷ here, then the four honest backward steps) against the
    float64 truth: the forward's errors propagated through every step plus each step's own
    (γ_k = k·u for a sum of k terms; the ReLU mask is exact since |Z| ≥ MARGIN)."""
    u = _unit_roundoff(net.dtype)
    X, Y, w1, b1, w2, b2 = (t.double() for t in (net.X, net.Y, *net.params))
    n, d_in = X.shape
    Z = X @ w1 + b1
    mask = (Z > 0).double()
    H = Z.clamp(min=0)
    dH = (d_in + 1) * u * (X.abs() @ w1.abs() + b1.abs()) * mask
    dY = (D_H + 1) * u * (H.abs() @ w2.abs() + b2.abs()) + dH @ w2.abs()
    G = 2 * (H @ w2 + b2 - Y) / Y.numel()
    dG = 2 * dY / Y.numel() + 3 * u * G.abs()
    G_Z = (G @ w2.T) * mask
    dG_Z = (dG @ w2.abs().T + D_OUT * u * (G.abs() @ w2.abs().T)) * mask
    return max(
        _ratio(X.abs().T @ dG_Z + n * u * (X.abs().T @ G_Z.abs()), X.T @ G_Z),
        _ratio(dG_Z.sum(0) + n * u * G_Z.abs().sum(0), G_Z.sum(0)),
        _ratio(dH.T @ G.abs() + H.abs().T @ dG + n * u * (H.abs().T @ G.abs()), H.T @ G),
        _ratio(dG.sum(0) + n * u * G.abs().sum(0), G.sum(0)),
    )


def forward(net: Net) -> tuple[torch.Tensor, ...]:
    """Z, H, Ŷ computed in the case's dtype (what the student's backward receives)."""
    Z = net.X @ net.w1 + net.b1  # (n, d_in) @ (d_in, d_h) -> (n, d_h)
    H = Z.clamp(min=0)  # (n, d_h)
    Y_hat = H @ net.w2 + net.b2  # (n, d_h) @ (d_h, d_out) -> (n, d_out)
    return Z, H, Y_hat


def ref_chain(net: Net) -> tuple[torch.Tensor, ...]:
    """(dw1, db1, dw2, db2) by autograd in float64."""
    ps = [p.detach().double().requires_grad_(True) for p in net.params]
    H = (net.X.double() @ ps[0] + ps[1]).clamp(min=0)
    loss = ((H @ ps[2] + ps[3] - net.Y.double()) ** 2).mean()
    return tuple(torch.autograd.grad(loss, ps))


def chain_case(student, label: str, dtype: torch.dtype) -> None:
    net = chain_inputs(seed_of(student), label, dtype)
    (n, d_in) = _shape(net.X)
    where = (
        f"In a two-layer network (X ({n}, {d_in}), hidden width {D_H}, {D_OUT} outputs,"
        f" {_dt(dtype)}), chaining your functions"
    )
    Z, H, Y_hat = forward(net)
    fix = " fix that function first (its own part says how)."

    G_yhat = _call(student, "mse_backward", Y_hat, net.Y, where=where)
    G_yhat = _tensor(G_yhat, "mse_backward's dL/dŶ", (n, D_OUT), dtype, where)
    if not close(G_yhat, ref_mse_backward(Y_hat, net.Y), dtype):
        raise GradingFailure(f"{where}: dL/dŶ from mse_backward is wrong;{fix}")

    second = _call(student, "linear_backward", H, net.w2, net.b2, G_yhat, where=where,
                   hint=SHAPE_HINT)  # fmt: skip
    if not isinstance(second, (tuple, list)) or len(second) != 3:
        raise GradingFailure(f"{where}: linear_backward must return (grad_x, grad_w, grad_b).")
    expected = ref_linear_backward(H, net.w2, net.b2, G_yhat)
    shapes = [(n, D_H), (D_H, D_OUT), (D_OUT,)]
    for i, (got, want) in enumerate(zip(second, expected, strict=True)):
        _tensor(got, f"the second layer's {GRAD_NAMES[i]}", shapes[i], dtype, where)
        if not close(got, want, dtype):
            raise GradingFailure(
                f"{where}: the second layer's {GRAD_NAMES[i]} from linear_backward is wrong;{fix}"
            )

    G_z = _call(student, "relu_backward", Z, second[0], where=where)
    G_z = _tensor(G_z, "relu_backward's dL/dZ", (n, D_H), dtype, where)
    if not close(G_z, second[0].double() * (Z > 0), dtype):
        raise GradingFailure(f"{where}: dL/dZ from relu_backward is wrong;{fix}")

    first = _call(student, "linear_backward", net.X, net.w1, net.b1, G_z, where=where,
                  hint=SHAPE_HINT)  # fmt: skip
    if not isinstance(first, (tuple, list)) or len(first) != 3:
        raise GradingFailure(f"{where}: linear_backward must return (grad_x, grad_w, grad_b).")
    got_grads = (first[1], first[2], second[1], second[2])
    shapes = [(d_in, D_H), (D_H,), (D_H, D_OUT), (D_OUT,)]
    for name, got, want, shape in zip(("w1", "b1", "w2", "b2"), got_grads, ref_chain(net),
                                      shapes, strict=True):  # fmt: skip
        _tensor(got, f"dL/d{name}", shape, dtype, where)
        if not close(got, want, dtype):
            raise GradingFailure(
                f"{where}: dL/d{name} differs from the network's true gradient; each step"
                " matched on its own, so check that your functions use only their arguments"
                " (no state kept between calls)."
            )


# ---------------------------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------------------------


def _cases(student, run, cases, *extra):
    return [lambda c=c: run(student, *c, *extra) for c in cases]


PARTIAL = RULES.partial_credit_per_case
CHECKS = [
    cases_check(gid, points, description, cases, partial=PARTIAL)
    for gid, points, description, cases in (
        (
            "mse_backward_values",
            2,
            "mse_backward is 2(pred − target)/N over all N entries, float64 and float32",
            lambda s: _cases(s, mse_case, MSE_CASES),
        ),
        (
            "relu_backward_values",
            1,
            "relu_backward on inputs with no zero entries",
            lambda s: _cases(s, relu_case, RELU_VALUES, False),
        ),
        (
            "relu_backward_kink",
            1,
            "relu_backward at the kink: derivative 0 where x == 0",
            lambda s: _cases(s, relu_case, RELU_KINK, True),
        ),
        (
            "linear_backward_grad_x",
            1,
            "linear_backward: grad_x = grad_out @ w.T",
            lambda s: _cases(s, linear_case, LINEAR_CASES, 0),
        ),
        (
            "linear_backward_grad_w",
            2,
            "linear_backward: grad_w = x.T @ grad_out, w stored (d_in, d_out)",
            lambda s: _cases(s, linear_case, LINEAR_CASES, 1),
        ),
        (
            "linear_backward_grad_b",
            1,
            "linear_backward: grad_b sums grad_out over the batch",
            lambda s: _cases(s, linear_case, LINEAR_CASES, 2),
        ),
        (
            "linear_backward_two_layer",
            2,
            "the gradients of a two-layer network, chaining your three functions",
            lambda s: _cases(s, chain_case, CHAIN_CASES),
        ),
    )
]


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the first entries of its hidden inputs and expected gradients, as a student would print
    them."""
    tensors: list[torch.Tensor] = []
    for label, dtype in MSE_CASES:
        pred, target = mse_inputs(seed, label, dtype)
        tensors += [pred, target, ref_mse_backward(pred, target)]
    for label, dtype in (*RELU_VALUES, *RELU_KINK):
        tensors += list(relu_inputs(seed, label, dtype, zeros=label.startswith("relu_kink")))
    for label, dtype in LINEAR_CASES:
        case = linear_inputs(seed, label, dtype)
        tensors += [case.x, case.w, case.grad_out, *ref_linear_backward(*vars(case).values())]
    for label, dtype in CHAIN_CASES:
        net = chain_inputs(seed, label, dtype)
        tensors += [net.X, net.Y, net.w1, *ref_chain(net)]
    out = []
    for t in tensors:
        for v in t.reshape(-1).tolist()[:2]:
            if abs(v) >= 1e-3:
                out.append(f"{v:.6f}")
    return out
