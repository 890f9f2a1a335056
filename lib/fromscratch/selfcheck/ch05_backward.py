"""Public tests of the chapter 5 set (the backward pass by hand), run by ``check(...)``.

One test per graded part, on the public examples of the notebook's graded cells, with the grading
rules of ``fromscratch.rules.CH05``: every returned tensor has the shape of the tensor it is the
gradient of and the dtype of the inputs, and ‖R − E‖_F ≤ tol·‖E‖_F against the exact gradient E
(autograd in float64 from the same tensors; tol 1e-12 for float64, 1e-4 for float32 inputs).

Taught in: chapter 5, The backward pass, by hand (its Exercises section).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH05

NAMES = ("grad_x", "grad_w", "grad_b")


def _tol(dtype: torch.dtype) -> float:
    return CH05.tolerances["float32" if dtype == torch.float32 else "float64"]


def _kind(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _randn(g: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def _compare(what: str, got: Any, want: torch.Tensor, dtype: torch.dtype, hint: str) -> None:
    """Fail unless ``got`` has the shape of ``want``, the dtype ``dtype`` and is within tol."""
    if not isinstance(got, torch.Tensor):
        raise Fail(f"{what} is a {type(got).__name__}; return a tensor.")
    if got.shape != want.shape:
        raise Fail(
            f"{what} has shape {tuple(got.shape)}; a gradient has the shape of its tensor,"
            f" {tuple(want.shape)}."
        )
    if got.dtype != dtype:
        raise Fail(f"{what} is {_kind(got.dtype)}; keep the dtype of the inputs ({_kind(dtype)}).")
    tol = _tol(dtype)
    err = float((got.detach().double() - want).norm() / want.norm())
    if not err <= tol:  # also catches nan
        raise Fail(
            f"{what} ({_kind(dtype)}): relative error {err:.2g} against autograd; grading needs"
            f" <= {tol:g}. {hint}"
        )


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    def mse() -> None:
        for seed, dtype in ((1, torch.float64), (2, torch.float32)):
            g = torch.Generator().manual_seed(seed)
            pred, target = _randn(g, 6, 4, dtype=dtype), _randn(g, 6, 4, dtype=dtype)  # (6, 4)
            leaf = pred.double().clone().requires_grad_(True)
            ((leaf - target.double()) ** 2).mean().backward()
            got = run.call("mse_backward", pred, target)
            _compare(
                "mse_backward for pred (6, 4)",
                got,
                leaf.grad,
                dtype,
                "The gradient is 2 (pred - target) / N, with N = pred.numel() = 24 entries.",
            )

    def relu_values() -> None:
        for seed, dtype in ((3, torch.float64), (4, torch.float32)):
            g = torch.Generator().manual_seed(seed)
            x, grad_out = _randn(g, 5, 3, dtype=dtype), _randn(g, 5, 3, dtype=dtype)  # (5, 3)
            got = run.call("relu_backward", x, grad_out)
            want = grad_out.double() * (x > 0)
            _compare(
                "relu_backward for x (5, 3)",
                got,
                want,
                dtype,
                "The result is grad_out where x > 0 and 0 elsewhere.",
            )

    def relu_kink() -> None:
        x = torch.tensor([[0.0, 1.5, -2.0], [0.0, 0.0, 0.25]], dtype=torch.float64)  # 3 zeros
        grad_out = torch.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], dtype=torch.float64)
        leaf = x.clone().requires_grad_(True)
        torch.relu(leaf).backward(grad_out)
        got = run.call("relu_backward", x, grad_out)
        _compare(
            "relu_backward for x with exact zeros",
            got,
            leaf.grad,
            torch.float64,
            "At x == 0 the slope is 0 (the chapter's and torch's convention): mask with x > 0,"
            " not x >= 0.",
        )

    def linear(index: int) -> Callable[[], None]:
        def test() -> None:
            for seed, dtype in ((5, torch.float64), (6, torch.float32)):
                g = torch.Generator().manual_seed(seed)
                x, w = _randn(g, 7, 4, dtype=dtype), _randn(g, 4, 3, dtype=dtype)
                b, grad_out = _randn(g, 3, dtype=dtype), _randn(g, 7, 3, dtype=dtype)
                leaves = [t.double().clone().requires_grad_(True) for t in (x, w, b)]
                (leaves[0] @ leaves[1] + leaves[2]).backward(grad_out.double())
                got = run.call("linear_backward", x, w, b, grad_out)
                if not isinstance(got, (tuple, list)) or len(got) != 3:
                    raise Fail("linear_backward must return the tuple (grad_x, grad_w, grad_b).")
                hint = (
                    "grad_x = grad_out @ w.T (n, d_in)",
                    "grad_w = x.T @ grad_out (d_in, d_out), summed over the rows, not averaged",
                    "grad_b = grad_out.sum(0) (d_out,), summed over the rows, not averaged",
                )[index]
                _compare(
                    f"{NAMES[index]} of linear_backward (x (7, 4), w (4, 3))",
                    got[index],
                    leaves[index].grad,
                    dtype,
                    hint + ".",
                )

        return test

    def two_layer() -> None:
        g = torch.Generator().manual_seed(8)
        X, Y = _randn(g, 7, 5), _randn(g, 7, 2)  # (n, d_in), (n, d_out)
        w1, b1 = _randn(g, 5, 3) * 0.6, _randn(g, 3) * 0.1
        w2, b2 = _randn(g, 3, 2) * 0.8, _randn(g, 2) * 0.1
        Z = X @ w1 + b1  # (7, 3)
        H = Z.clamp(min=0)
        Y_hat = H @ w2 + b2  # (7, 2)
        G_yhat = run.call("mse_backward", Y_hat, Y)
        second = run.call("linear_backward", H, w2, b2, G_yhat)
        if not isinstance(second, (tuple, list)) or len(second) != 3:
            raise Fail("linear_backward must return the tuple (grad_x, grad_w, grad_b).")
        G_z = run.call("relu_backward", Z, second[0])
        first = run.call("linear_backward", X, w1, b1, G_z)
        if not isinstance(first, (tuple, list)) or len(first) != 3:
            raise Fail("linear_backward must return the tuple (grad_x, grad_w, grad_b).")
        leaves = [p.clone().requires_grad_(True) for p in (w1, b1, w2, b2)]
        loss = ((X @ leaves[0] + leaves[1]).clamp(min=0) @ leaves[2] + leaves[3] - Y) ** 2
        loss.mean().backward()
        for other in ("mse_backward", "relu_backward"):  # check() names only linear_backward's
            flags = run.flags(other)  # flags for this part, but grading zeroes it for any of the
            if flags:  # three functions it chains
                raise Fail(
                    f"this part chains your three functions, and grading scores it 0: {flags[0]}"
                )
        mine = (first[1], first[2], second[1], second[2])
        for name, got, leaf in zip(("w1", "b1", "w2", "b2"), mine, leaves, strict=True):
            _compare(
                f"dL/d{name} of the two-layer network",
                got,
                leaf.grad,
                torch.float64,
                "Fix the parts of your functions that fail first; the chain is mse_backward,"
                " linear_backward(H, w2, b2, .), relu_backward(Z, .), linear_backward(X, w1,"
                " b1, .).",
            )

    return {
        "mse_backward_values": mse,
        "relu_backward_values": relu_values,
        "relu_backward_kink": relu_kink,
        "linear_backward_grad_x": linear(0),
        "linear_backward_grad_w": linear(1),
        "linear_backward_grad_b": linear(2),
        "linear_backward_two_layer": two_layer,
    }
