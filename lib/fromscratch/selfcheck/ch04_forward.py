"""Public tests of the chapter 4 set (the forward pass by hand), run by ``check(...)``.

One test per graded part, on public inputs of the kinds the hidden tests use, with the grading
rules of ``fromscratch.rules.CH04``: ``linear`` within tol·s, s = max (|x| @ |w| + |b|) (tol
1e-12 in float64, 1e-5 in float32); ``relu`` exactly, with its input left unchanged;
``kaiming_init`` of shape (d_in, d_out), float32, drawn with the generator passed in, and a large
draw inside the three bands of the Rules cell (mean square, mean, share beyond 2σ), which a
correct draw leaves with probability below 8e-10.

Taught in: chapter 4, The forward pass (its Exercises section).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH04


def drive_seeds(target, d_in, d_out, seed_a, seed_b):
    """kaiming_init with generators seeded seed_a, seed_a again, and seed_b."""
    return [target(d_in, d_out, torch.Generator().manual_seed(s)) for s in (seed_a, seed_a, seed_b)]


def drive_draw(target, d_in, d_out, seed):
    """One draw of kaiming_init with a generator seeded ``seed``."""
    return target(d_in, d_out, torch.Generator().manual_seed(seed))


def bands(n: int) -> dict[str, tuple[float, float]]:
    """The three bands of the Rules cell for a draw of n entries (in units of σ² and σ)."""
    a = math.log(5e9)
    r = math.sqrt(a / n)
    p, t = math.erfc(math.sqrt(2.0)), math.sqrt(math.log(1e10) / (2 * n))
    z = math.sqrt(2 * a) / math.sqrt(n)
    return {"mean_square": (1 - 2 * r, 1 + 2 * r + 2 * a / n), "mean": (-z, z),
            "tail": (p - t, p + t)}  # fmt: skip


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    def linear(dtype: torch.dtype, sizes: list[tuple[int, int, int]], seed: int):
        def test() -> None:
            kind = str(dtype).removeprefix("torch.")
            tol = CH04.tolerances[kind]
            g = torch.Generator().manual_seed(seed)
            for n, d_in, d_out in sizes:
                x = torch.randn(n, d_in, generator=g, dtype=torch.float64).to(dtype)
                w = torch.randn(d_in, d_out, generator=g, dtype=torch.float64).to(dtype)
                b = torch.randn(d_out, generator=g, dtype=torch.float64).to(dtype)
                try:
                    z = run.call("linear", x, w, b)
                except Fail as fail:
                    if "cannot be multiplied" not in str(fail):
                        raise
                    raise Fail(
                        f"{fail}. Hint: x is (n, d_in) and w is (d_in, d_out): the layer is "
                        "x @ w + b (not x @ w.T or w.T @ x)."
                    ) from None
                if not isinstance(z, torch.Tensor) or tuple(z.shape) != (n, d_out):
                    got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
                    raise Fail(
                        f"linear of x {(n, d_in)}, w {(d_in, d_out)}, b {(d_out,)} gave {got};"
                        f" expected (n, d_out) = {(n, d_out)}."
                    )
                xd, wd, bd = x.double(), w.double(), b.double()
                want = xd @ wd + bd  # (n, d_out)
                s = float((xd.abs() @ wd.abs() + bd.abs()).max())
                err = float((z.double() - want).abs().max())
                if not err <= tol * s:
                    hint = ""
                    if float((z.double() - xd @ wd).abs().max()) <= 1e-3 * s:
                        hint = " It equals x @ w: add the bias b."
                    elif d_in == d_out and float((z.double() - xd @ wd.T - bd).abs().max()) <= (
                        1e-3 * s
                    ):
                        hint = " It equals x @ w.T + b: w is (d_in, d_out), use x @ w + b."
                    raise Fail(
                        f"linear ({kind}, x {(n, d_in)}, w {(d_in, d_out)}): max |Z - E| ="
                        f" {err / s:.2g}·s; grading needs <= {tol:g}·s.{hint}"
                    )

        return test

    def relu_case(x: torch.Tensor, keeps_input: bool) -> None:
        what = f"a {str(x.dtype).removeprefix('torch.')} tensor of shape {tuple(x.shape)}"
        y = run.call("relu", x)
        after = run.last_args[0]
        if keeps_input and not torch.equal(after, x):
            raise Fail(
                f"relu changed its input ({what}): an in-place update (clamp_, x[x < 0] = 0,"
                " relu_, *=) overwrote it; build a new tensor, e.g. x.clamp(min=0)."
            )
        if not isinstance(y, torch.Tensor) or y.shape != x.shape or y.dtype != x.dtype:
            got = f"{tuple(y.shape)} {y.dtype}" if isinstance(y, torch.Tensor) else type(y).__name__
            raise Fail(f"relu of {what} gave {got}; expected x's shape and dtype.")
        want = torch.where(x > 0, x, torch.zeros_like(x))
        if not bool((y == want).all()):
            hint = " It is |x|: negative entries become 0." if torch.equal(y, x.abs()) else ""
            raise Fail(f"relu of {what} is not max(x, 0) in every entry.{hint}")

    def relu_values() -> None:
        g = torch.Generator().manual_seed(5)
        for shape, dtype in (
            ((4, 6), torch.float64),
            ((2, 3, 4), torch.float32),
            ((9,), torch.float64),
        ):
            x = torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
            x.view(-1)[0] = 0.0
            relu_case(x, keeps_input=False)

    def relu_keeps_input() -> None:
        g = torch.Generator().manual_seed(6)
        for shape, dtype in (((5, 7), torch.float64), ((3, 4, 5), torch.float32)):
            relu_case(torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype), True)

    def shape_and_seed() -> None:
        for d_in, d_out in ((3, 5), (7, 2)):
            first, again, other = run.call("kaiming_init", d_in, d_out, 10, 11, driver=drive_seeds)
            if not isinstance(first, torch.Tensor):
                raise Fail(f"kaiming_init returned a {type(first).__name__}; return a tensor.")
            if tuple(first.shape) != (d_in, d_out):
                raise Fail(
                    f"kaiming_init({d_in}, {d_out}, g) has shape {tuple(first.shape)}; expected"
                    f" (d_in, d_out) = {(d_in, d_out)} (w is stored (d_in, d_out), x @ w + b)."
                )
            if first.dtype != torch.float32:
                raise Fail(f"kaiming_init returned {first.dtype}; expected torch.float32.")
            if not torch.equal(first, again):
                raise Fail(
                    "two generators seeded alike gave different weights: draw with the generator"
                    " passed in, torch.randn(d_in, d_out, generator=generator)."
                )
            if torch.equal(first, other):
                raise Fail(
                    "generators with different seeds gave the same weights: the function ignores"
                    " the generator passed in."
                )

    def distribution() -> None:
        for d_in, d_out, seed in ((256, 512, 12), (512, 256, 13)):
            w = run.call("kaiming_init", d_in, d_out, seed, driver=drive_draw)
            if not isinstance(w, torch.Tensor) or w.numel() != d_in * d_out:
                raise Fail(f"kaiming_init({d_in}, {d_out}, g) did not return d_in·d_out weights.")
            v = w.detach().double().reshape(-1)
            sigma = math.sqrt(2.0 / d_in)
            band = bands(v.numel())
            ratio = float((v**2).mean()) / sigma**2
            lo, hi = band["mean_square"]
            if not lo <= ratio <= hi:
                raise Fail(
                    f"kaiming_init({d_in}, {d_out}, g): the mean square of the weights is"
                    f" {ratio:.3g}·(2/d_in); a correct draw gives between {lo:.4f} and {hi:.4f}"
                    " times 2/d_in. The standard deviation is √(2/d_in), with d_in the rows of w."
                )
            mean = float(v.mean()) / sigma
            if not band["mean"][0] <= mean <= band["mean"][1]:
                raise Fail(
                    f"kaiming_init({d_in}, {d_out}, g): the mean is {mean:.3g}·σ, not about 0;"
                    " draw from a distribution centred at 0 (torch.randn)."
                )
            share = float((v.abs() > 2 * sigma).double().mean())
            if not band["tail"][0] <= share <= band["tail"][1]:
                raise Fail(
                    f"kaiming_init({d_in}, {d_out}, g): {100 * share:.2f}% of the weights lie"
                    " beyond 2σ, where a normal draw puts 4.55%: draw with torch.randn."
                )

    return {
        "linear_float64": linear(torch.float64, [(5, 3, 4), (4, 6, 6)], 3),
        "linear_float32": linear(torch.float32, [(7, 5, 2), (1, 4, 3)], 4),
        "relu_values": relu_values,
        "relu_keeps_input": relu_keeps_input,
        "kaiming_init_shape_and_seed": shape_and_seed,
        "kaiming_init_distribution": distribution,
    }
