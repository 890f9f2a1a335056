"""Grader for the chapter 4 set: the forward pass by hand.

Student API (chapter 4; ``fromscratch.layers`` and ``fromscratch.init`` implement the same
pieces), in the library's layout, rows as samples:

- ``linear(x, w, b)``: ``x @ w + b`` for ``x`` (n, d_in), ``w`` (d_in, d_out), ``b`` (d_out,);
  returns (n, d_out).
- ``relu(x)``: ``max(x, 0)`` elementwise, any shape, a new tensor (``x`` unchanged).
- ``kaiming_init(d_in, d_out, generator)``: a (d_in, d_out) float32 tensor with entries drawn
  from N(0, 2/d_in) with the given ``torch.Generator``.

Forbidden (``fromscratch.rules.CH04``) in all three: the course's reference code, torch's
ready-made layer functions (F.linear, F.relu, torch.relu, Tensor.relu, ...) and torch.nn.init.

Tolerance of ``linear``. Let s = max_ij (|x| @ |w| + |b|)_ij. Each z_ij is a sum of d_in + 1
terms; by chapter 3's bound, any summation order is within γ_{d_in+1}·(|x| @ |w| + |b|)_ij of
the exact value, γ_k = k·u/(1 − k·u). With d_in ≤ 12: float32 (u = 2⁻²⁴) gives ≤ 7.8e-7·s,
under tol = 1e-5 (margin 12); float64 (u = 2⁻⁵³) gives ≤ 1.5e-15·s, under tol = 1e-12 (margin
700, which also covers the float64 rounding of the expected value computed here). A case passes
when max_ij |Z_ij − E_ij| ≤ tol·s. ``relu`` only selects entries, so it is checked exactly.

Statistics of ``kaiming_init`` (each case: N = d_in·d_out entries w_k, N = 131 072, σ² = 2/d_in).
If the w_k are independent N(0, σ²), then

- v = (1/N) Σ w_k² satisfies N·v/σ² ~ χ²_N. The Laurent–Massart bounds (Ann. Stat. 2000, Lemma
  1) P(X − N ≥ 2√(N·a) + 2a) ≤ e^(−a) and P(N − X ≥ 2√(N·a)) ≤ e^(−a), with a = ln(5e9) ≈ 22.3,
  give v/σ² ∈ [1 − 2√(a/N), 1 + 2√(a/N) + 2a/N] = [0.9739, 1.0264] except with probability
  ≤ 4e-10;
- the mean m = (1/N) Σ w_k is N(0, σ²/N), and P(|Z| > z) ≤ e^(−z²/2) for a standard normal Z,
  so |m| ≤ z·σ/√N with z = √(2 ln 5e9) ≈ 6.68 (≈ 0.018·σ) except with probability ≤ 2e-10;
- the share q of entries with |w_k| > 2σ is a mean of N independent Bernoulli(p) variables,
  p = P(|Z| > 2) = erfc(√2) ≈ 0.0455, and Hoeffding gives |q − p| ≤ t = √(ln(1e10)/(2N)) ≈
  0.0094 except with probability ≤ 2e-10. This part tells a normal draw from a uniform one of
  the same variance (a uniform on [−√3σ, √3σ] has no entry beyond 2σ).

So a correct function fails a case with probability below 8e-10; since every case's generator
seed is fixed (derived from the submission's seed), the outcome is deterministic anyway. The band
rejects every common mistake by a wide margin: std 2/d_in instead of √(2/d_in) (v/σ² = 2/d_in),
variance 1/d_in (0.5), fan-out d_out instead of d_in (0.5 or 2: one case has d_out = 2·d_in, the
other d_in = 2·d_out), a uniform draw with bound √(2/d_in) (1/3), no scaling (d_in/2). Rounding
the samples to float32 moves v by ≤ 2⁻²³ relative, far inside the band.

Whether the generator is used: the driver (run in the sandbox) calls ``kaiming_init`` twice with
generators seeded alike and once with another seed, on small shapes; the first two results must
be equal and the third different. A draw from torch's global generator (``torch.randn`` without
``generator=``) differs between the two calls; a generator the function seeds itself gives the
same tensor for both seeds.

Hidden inputs per submission: every case draws its sizes, tensors and generator seeds from
``derive_seed(seed, "<grade_id>/<i>")``. Messages name the case's kind and the likely mistake,
never the hidden numbers; ``hidden_values`` lists what must never appear in feedback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    derive_seed,
    part_checks,
)
from fromscratch.rules import CH04 as RULES

TOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
SHORTCUT_HINTS = {
    "layers": "write the layer yourself: x @ w + b, and max(x, 0) with clamp, where or a mask",
    "init": "draw with torch.randn(d_in, d_out, generator=generator) and scale it yourself",
    "reference": "write it yourself, as the chapter explains",
}

CALL_TIMEOUT = 10.0  # seconds per call; every call here takes milliseconds

# The statistical bands of kaiming_init (derivation in the module docstring).
_A_VAR = math.log(5e9)  # Laurent–Massart: each side fails with probability <= e^-a = 2e-10
_Z_MEAN = math.sqrt(2 * math.log(5e9))  # P(|Z| > z) <= e^(-z²/2) = 2e-10
_P_TAIL = math.erfc(math.sqrt(2.0))  # P(|Z| > 2) for a standard normal Z
_LN_TAIL = math.log(1e10)  # Hoeffding: 2 exp(-2 N t²) = 2e-10


def variance_band(n: int) -> tuple[float, float]:
    """The interval for v/σ² (v = mean of w², N = n samples) from the chi-square bounds."""
    r = math.sqrt(_A_VAR / n)
    return 1 - 2 * r, 1 + 2 * r + 2 * _A_VAR / n


def mean_bound(n: int) -> float:
    """|mean| must not exceed this many σ."""
    return _Z_MEAN / math.sqrt(n)


def tail_band(n: int) -> tuple[float, float]:
    """The interval for the share of entries beyond 2σ."""
    t = math.sqrt(_LN_TAIL / (2 * n))
    return _P_TAIL - t, _P_TAIL + t


# ----------------------------------------------------------------------------- drivers (sandbox)


def drive_kaiming_seeds(target, d_in, d_out, seed_a, seed_b):
    """Run in the sandbox: kaiming_init with generators seeded seed_a, seed_a again, seed_b."""
    import torch

    out = []
    for s in (seed_a, seed_a, seed_b):
        w = target(d_in, d_out, torch.Generator().manual_seed(s))
        out.append(w.detach().clone() if type(w) is torch.Tensor else type(w).__name__)
    return out


def drive_kaiming_draw(target, d_in, d_out, seed):
    """Run in the sandbox: one large draw with a generator seeded ``seed``."""
    import torch

    w = target(d_in, d_out, torch.Generator().manual_seed(seed))
    return w.detach().clone() if type(w) is torch.Tensor else type(w).__name__


# ----------------------------------------------------------------------------- linear


@dataclass(frozen=True)
class LinearCase:
    kind: str  # "rect", "square", "one_row", "wide"
    dtype: torch.dtype
    seed: int

    def sizes(self) -> tuple[int, int, int]:
        gen = torch.Generator().manual_seed(self.seed)
        n, d_in, d_out = (int(s) for s in torch.randint(2, 9, (3,), generator=gen))
        if self.kind == "square":
            d_out = d_in  # x @ w.T runs without an error here
        elif d_out == d_in:
            d_out = d_in + 1 + int(torch.randint(0, 4, (), generator=gen))
        if d_in == n:
            n = d_in + 2  # so x.T @ w cannot run either
        if self.kind == "one_row":
            n = 1
        return n, d_in, d_out

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, d_in, d_out = self.sizes()
        gen = torch.Generator().manual_seed(self.seed + 1)
        scale = math.exp(float(torch.empty(()).uniform_(math.log(0.3), math.log(5), generator=gen)))
        x = scale * torch.randn(n, d_in, generator=gen, dtype=torch.float64)  # (n, d_in)
        w = torch.randn(d_in, d_out, generator=gen, dtype=torch.float64) / math.sqrt(d_in)
        b = 1.0 + torch.rand(d_out, generator=gen, dtype=torch.float64)  # (d_out,), all >= 1
        b = b * torch.where(torch.rand(d_out, generator=gen) < 0.5, -1.0, 1.0).double()
        return x.to(self.dtype), w.to(self.dtype), b.to(self.dtype)

    def describe(self) -> str:
        kind = str(self.dtype).removeprefix("torch.")
        return {
            "rect": f"a {kind} batch with d_in ≠ d_out",
            "square": f"a {kind} batch with a square w (d_in = d_out)",
            "one_row": f"a {kind} batch of one row (n = 1)",
        }[self.kind]


def exact_linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """E = x @ w + b in float64 (the trusted reference)."""
    return x.double() @ w.double() + b.double()  # (n, d_in) @ (d_in, d_out) + (d_out,)


def linear_scale(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
    """s = max_ij (|x| @ |w| + |b|)_ij, the scale of the rounding bound."""
    return float((x.double().abs() @ w.double().abs() + b.double().abs()).max())


def _run_linear(student: Student, case: LinearCase) -> None:
    where = f"On {case.describe()}"
    x, w, b = case.inputs()
    try:
        got = student.call("linear", x, w, b, timeout=CALL_TIMEOUT)
    except StudentError as error:
        text = str(error)
        if "cannot be multiplied" in text or "size of tensor" in text or "must match" in text:
            text += (
                " Hint: x is (n, d_in) and w is (d_in, d_out), so x @ w is (n, d_out); w.T @ x or "
                "x @ w.T pair the wrong axes. b has shape (d_out,) and broadcasts over the rows."
            )
        raise StudentError(f"{where}: {text}") from None
    if not isinstance(got, torch.Tensor):
        raise GradingFailure(
            f"{where}, linear returned a {type(got).__name__}; return the (n, d_out) tensor."
        )
    n, d_in, d_out = case.sizes()
    if tuple(got.shape) != (n, d_out):
        if tuple(got.shape) == (d_out, n):
            msg = "the result is (d_out, n): rows are samples, so return x @ w + b, (n, d_out)."
        elif tuple(got.shape) == (d_out,) and n == 1:
            msg = "the result lost the row axis: a batch of one row gives (1, d_out)."
        else:
            msg = "the result does not have shape (n, d_out)."
        raise GradingFailure(f"{where}, {msg}")
    if not got.is_floating_point():
        raise GradingFailure(f"{where}, linear returned an integer tensor; keep x's dtype.")
    want = exact_linear(x, w, b)
    s = linear_scale(x, w, b)
    tol = TOL[case.dtype]
    err = float((got.double() - want).abs().max())
    if err <= tol * s:
        return
    if math.isnan(err):
        raise GradingFailure(f"{where}, the result contains nan.")

    def near(candidate: torch.Tensor) -> bool:
        return float((got.double() - candidate).abs().max()) <= 1e-3 * s

    xw = x.double() @ w.double()  # (n, d_out)
    if near(xw):
        msg = "the result is x @ w without the bias: add b (shape (d_out,), one per output)."
    elif near(xw - b.double()):
        msg = "the result is x @ w − b: the bias is added, z = x @ w + b."
    elif near(want.clamp(min=0)):
        msg = "the result is relu(x @ w + b): linear is the affine map only; relu is separate."
    elif case.kind == "square" and near(x.double() @ w.double().T + b.double()):
        msg = (
            "the result is x @ w.T + b: here w is stored (d_in, d_out), as in fromscratch, so the "
            "layer is x @ w + b (nn.Linear's weight is the transpose)."
        )
    elif case.kind == "square" and near(x.double() @ w.double().T):
        msg = "the result is x @ w.T without the bias: the layer is x @ w + b."
    elif near(xw + b.double().sum()):
        msg = "the result adds the sum of b to every entry; add b itself, b_j to column j."
    else:
        msg = f"max |Z − E| is {err / s:.2g}·s; grading needs ≤ {tol:g}·s (see the Rules cell)."
    raise GradingFailure(f"{where}, {msg}")


# ----------------------------------------------------------------------------- relu


@dataclass(frozen=True)
class ReluCase:
    kind: str  # "matrix64", "cube32", "vector64"
    seed: int

    def input(self) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed)
        shape = {"matrix64": (5, 7), "cube32": (3, 4, 5), "vector64": (11,)}[self.kind]
        scale = math.exp(
            float(torch.empty(()).uniform_(math.log(0.5), math.log(20), generator=gen))
        )
        x = scale * torch.randn(*shape, generator=gen, dtype=torch.float64)
        x = x.reshape(-1)
        x[int(torch.randint(2, x.numel(), (), generator=gen))] = 0.0  # an exact zero
        x[0], x[1] = -abs(float(x[0])) - 0.25, abs(float(x[1])) + 0.25  # both signs occur
        dtype = torch.float32 if self.kind == "cube32" else torch.float64
        return x.reshape(shape).to(dtype)

    def describe(self) -> str:
        return {
            "matrix64": "a float64 matrix with both signs and an exact zero",
            "cube32": "a float32 3-d tensor with both signs and an exact zero",
            "vector64": "a float64 vector with both signs and an exact zero",
        }[self.kind]


def _relu_problem(got: object, x: torch.Tensor) -> str | None:
    """None if ``got`` is relu(x) exactly, else the likely mistake."""
    if not isinstance(got, torch.Tensor):
        return f"relu returned a {type(got).__name__}; return a tensor of x's shape."
    if got.dtype == torch.bool:
        return "relu returned a bool mask (x > 0); multiply it with x: x * (x > 0)."
    if tuple(got.shape) != tuple(x.shape):
        return "the result does not have x's shape; relu works entry by entry and keeps the shape."
    if got.dtype != x.dtype:
        return (
            f"the result is {str(got.dtype).removeprefix('torch.')}, not x's "
            f"{str(x.dtype).removeprefix('torch.')}: keep x's dtype (e.g. torch.zeros_like(x))."
        )
    want = x.clamp(min=0)
    if bool((got == want).all()):
        return None
    if bool((got == x.abs()).all()):
        return "the result is |x|: relu sets negative entries to 0, it does not flip their sign."
    if bool((got == x).all()):
        return "the result equals x: negative entries must become 0."
    if bool((got == (x > 0).to(x.dtype)).all()) or bool((got == (x >= 0).to(x.dtype)).all()):
        return "the result is the 0/1 mask of x > 0; relu keeps the positive values themselves."
    if bool((got == x.clamp(max=0)).all()):
        return "the result is min(x, 0); relu is max(x, 0): keep the positive entries."
    return "the result is not max(x, 0) entry by entry."


def _run_relu(student: Student, case: ReluCase, keeps_input: bool) -> None:
    where = f"On {case.describe()}"
    x = case.input()
    try:
        if keeps_input:
            got, after = student.call("relu", x, timeout=CALL_TIMEOUT, return_args=True)
        else:
            got = student.call("relu", x, timeout=CALL_TIMEOUT)
    except StudentError as error:
        raise StudentError(f"{where}: {error}") from None
    if keeps_input:
        x_after = after[0]
        if not (isinstance(x_after, torch.Tensor) and torch.equal(x_after, x)):
            raise GradingFailure(
                f"{where}, relu changed its input x: an in-place operation (x.clamp_, x[x < 0] = 0,"
                " x.relu_(), x *= ...) overwrote the caller's tensor, which the forward pass still"
                " needs (the backward pass reads x). Build a new tensor: x.clamp(min=0), "
                "torch.where(x > 0, x, 0.0), or x.clone() first."
            )
    problem = _relu_problem(got, x)
    if problem:
        raise GradingFailure(f"{where}, {problem}")


# ----------------------------------------------------------------------------- kaiming_init


@dataclass(frozen=True)
class SeedCase:
    d_in: int
    d_out: int
    seed: int

    def seeds(self) -> tuple[int, int]:
        gen = torch.Generator().manual_seed(self.seed)
        a, b = (int(s) for s in torch.randint(0, 2**31 - 1, (2,), generator=gen))
        return a, b if b != a else a + 1

    def describe(self) -> str:
        return "small shapes, generators seeded alike twice and differently once"


@dataclass(frozen=True)
class DrawCase:
    d_in: int
    d_out: int
    seed: int

    def generator_seed(self) -> int:
        return derive_seed(self.seed, "generator")

    def describe(self) -> str:
        more = "d_out = 2·d_in" if self.d_out > self.d_in else "d_in = 2·d_out"
        return f"a large draw (d_in·d_out = {self.d_in * self.d_out} entries, {more})"


def _shape_problem(w: object, d_in: int, d_out: int) -> str | None:
    if not isinstance(w, torch.Tensor):
        name = w if isinstance(w, str) else type(w).__name__
        return f"kaiming_init returned a {name}; return the (d_in, d_out) weight tensor."
    if tuple(w.shape) != (d_in, d_out):
        if tuple(w.shape) == (d_out, d_in):
            return (
                "the result is (d_out, d_in), nn.Linear's layout; this set stores w as (d_in, "
                "d_out), as fromscratch does, so that the layer reads x @ w + b."
            )
        return "the result does not have shape (d_in, d_out)."
    if w.dtype != torch.float32:
        return (
            f"the result is {str(w.dtype).removeprefix('torch.')}; return float32 weights "
            "(torch.randn's default dtype, or .to(torch.float32))."
        )
    return None


def _run_seeds(student: Student, case: SeedCase) -> None:
    where = f"On {case.describe()}"
    a, b = case.seeds()
    try:
        first, again, other = student.call(
            "kaiming_init", case.d_in, case.d_out, a, b,
            timeout=CALL_TIMEOUT, driver=drive_kaiming_seeds,
        )  # fmt: skip
    except StudentError as error:
        text = str(error)
        if "generator" in text.lower():
            text += " Hint: pass it on, e.g. torch.randn(d_in, d_out, generator=generator)."
        raise StudentError(f"{where}: {text}") from None
    for w in (first, again, other):
        problem = _shape_problem(w, case.d_in, case.d_out)
        if problem:
            raise GradingFailure(f"{where}, {problem}")
    if not torch.equal(first, again):
        raise GradingFailure(
            f"{where}, two generators seeded alike gave different weights: the draw does not "
            "come from the generator passed in. Pass it to every random call: "
            "torch.randn(d_in, d_out, generator=generator) (torch.randn without generator= uses "
            "torch's global generator)."
        )
    if torch.equal(first, other):
        raise GradingFailure(
            f"{where}, generators with different seeds gave the same weights: the function "
            "ignores the generator passed in (does it seed or create its own?). Draw with "
            "torch.randn(d_in, d_out, generator=generator)."
        )
    if not bool(torch.isfinite(first).all()):
        raise GradingFailure(f"{where}, the weights contain inf or nan.")


def draw_problem(w: torch.Tensor, d_in: int, d_out: int) -> str | None:
    """None if the entries of ``w`` pass the three bands for N(0, 2/d_in), else the mistake."""
    v64 = w.detach().double().reshape(-1)
    n = v64.numel()
    sigma2 = 2.0 / d_in
    sigma = math.sqrt(sigma2)
    if not bool(torch.isfinite(v64).all()):
        return "the weights contain inf or nan."
    ratio = float((v64**2).mean()) / sigma2  # v / σ²
    lo, hi = variance_band(n)
    if not lo <= ratio <= hi:
        if ratio == 0.0:
            return "every weight is 0: draw random weights (a zero layer never learns)."

        def near(value: float) -> bool:
            return abs(ratio / value - 1) < 0.1

        if near(2.0 / d_in):
            why = "the standard deviation is 2/d_in: that is the variance; the std is √(2/d_in)."
        elif near(0.5):
            why = (
                "that is a variance of 1/d_in (LeCun/Xavier-like): ReLU keeps half of the second "
                "moment, so Kaiming needs 2/d_in."
                if d_out < d_in
                else "that is 1/d_in, or 2/d_out (fan-out): Kaiming's fan-in mode uses 2/d_in, "
                "d_in = the number of rows of w."
            )
        elif near(2.0):
            why = "that is 2/d_out (fan-out): Kaiming's fan-in mode uses 2/d_in (rows of w)."
        elif near(1.0 / 3.0):
            why = (
                "that is a uniform draw on [−σ, σ], whose variance is σ²/3: draw from a normal "
                "distribution (torch.randn) and multiply by σ = √(2/d_in)."
            )
        elif near(d_in / 2.0):
            why = "that is a standard normal: multiply torch.randn's draw by √(2/d_in)."
        else:
            why = "the scale should be σ = √(2/d_in)."
        return (
            f"the mean square of the weights is {ratio:.3g}·(2/d_in); a correct draw gives "
            f"between {lo:.4f} and {hi:.4f} times 2/d_in (see the Rules cell). Likely: {why}"
        )
    mean = float(v64.mean())
    if abs(mean) > mean_bound(n) * sigma:
        return (
            f"the weights' mean is {mean / sigma:.3g}·σ, not about 0 (a correct draw stays within "
            f"{mean_bound(n):.4f}·σ): draw from a distribution centred at 0 (torch.randn, not "
            "torch.rand)."
        )
    share = float((v64.abs() > 2 * sigma).double().mean())
    t_lo, t_hi = tail_band(n)
    if not t_lo <= share <= t_hi:
        return (
            f"{100 * share:.2f}% of the weights lie beyond 2σ, where a normal draw puts 4.55% "
            f"(a correct draw gives between {100 * t_lo:.2f}% and {100 * t_hi:.2f}%): the "
            "variance is right but the distribution is not normal (a uniform draw has no tails). "
            "Draw with torch.randn and scale it."
        )
    return None


def _run_draw(student: Student, case: DrawCase) -> None:
    where = f"On {case.describe()}"
    try:
        w = student.call(
            "kaiming_init", case.d_in, case.d_out, case.generator_seed(),
            timeout=CALL_TIMEOUT, driver=drive_kaiming_draw,
        )  # fmt: skip
    except StudentError as error:
        raise StudentError(f"{where}: {error}") from None
    if not isinstance(w, torch.Tensor):
        name = w if isinstance(w, str) else type(w).__name__
        raise GradingFailure(f"{where}, kaiming_init returned a {name}; return a tensor.")
    if w.numel() != case.d_in * case.d_out or not w.is_floating_point():
        raise GradingFailure(
            f"{where}, kaiming_init did not return d_in·d_out floating-point weights."
        )
    problem = draw_problem(w, case.d_in, case.d_out)
    if problem:
        raise GradingFailure(f"{where}, {problem}")


# ----------------------------------------------------------------------------- parts

PARTS: dict[str, tuple[str, ...]] = {
    "linear_float64": ("rect", "square"),
    "linear_float32": ("rect", "one_row"),
    "relu_values": ("matrix64", "cube32", "vector64"),
    "relu_keeps_input": ("matrix64", "cube32"),
    "kaiming_init_shape_and_seed": ("0", "1"),
    "kaiming_init_distribution": ("wide", "tall"),
}
DESCRIPTIONS = {
    "linear_float64": "linear in float64 (d_in ≠ d_out, and a square w)",
    "linear_float32": "linear in float32 (and a batch of one row)",
    "relu_values": "relu gives max(x, 0) exactly, any shape and dtype",
    "relu_keeps_input": "relu leaves its input unchanged (no in-place update)",
    "kaiming_init_shape_and_seed": "kaiming_init: shape (d_in, d_out), float32, drawn with the"
    " generator passed in",
    "kaiming_init_distribution": "kaiming_init: mean, variance 2/d_in and normal tails of a"
    " large draw",
}
POINTS = {
    "linear_float64": 2,
    "linear_float32": 1,
    "relu_values": 2,
    "relu_keeps_input": 1,
    "kaiming_init_shape_and_seed": 2,
    "kaiming_init_distribution": 2,
}
DRAW_SHAPES = {"wide": (256, 512), "tall": (512, 256)}


def cases_for(seed: int, grade_id: str) -> list:
    """The hidden cases of one part for the submission's ``seed``."""
    out: list = []
    for i, kind in enumerate(PARTS[grade_id]):
        case_seed = derive_seed(seed, f"{grade_id}/{i}")
        if grade_id.startswith("linear"):
            dtype = torch.float64 if grade_id.endswith("64") else torch.float32
            out.append(LinearCase(kind, dtype, case_seed))
        elif grade_id.startswith("relu"):
            out.append(ReluCase(kind, case_seed))
        elif grade_id == "kaiming_init_shape_and_seed":
            gen = torch.Generator().manual_seed(case_seed)
            d_in, d_out = (int(s) for s in torch.randint(2, 9, (2,), generator=gen))
            d_out = d_out if d_out != d_in else d_in + 1
            out.append(SeedCase(d_in, d_out, case_seed))
        else:
            out.append(DrawCase(*DRAW_SHAPES[kind], case_seed))
    return out


def _runner(grade_id: str):
    if grade_id.startswith("linear"):
        return _run_linear
    if grade_id == "relu_values":
        return lambda student, case: _run_relu(student, case, keeps_input=False)
    if grade_id == "relu_keeps_input":
        return lambda student, case: _run_relu(student, case, keeps_input=True)
    if grade_id == "kaiming_init_shape_and_seed":
        return _run_seeds
    return _run_draw


CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, _runner)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the first entries of the hidden linear inputs and outputs and of the relu inputs, and the
    generator seeds of kaiming_init's cases."""
    out: list[str] = []
    for grade_id in PARTS:
        for case in cases_for(seed, grade_id):
            if isinstance(case, LinearCase):
                x, w, b = case.inputs()
                values = [*x.reshape(-1).tolist()[:3], *exact_linear(x, w, b).reshape(-1)[:3]]
                out += [f"{float(v):.6f}" for v in values] + [repr(v) for v in x.tolist()[0][:2]]
            elif isinstance(case, ReluCase):
                out += [f"{v:.6f}" for v in case.input().reshape(-1).tolist()[:3]]
            elif isinstance(case, SeedCase):
                out += [str(s) for s in case.seeds()]
            else:
                out.append(str(case.generator_seed()))
    return list(dict.fromkeys(out))
