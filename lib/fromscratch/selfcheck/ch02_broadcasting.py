"""Public tests of the chapter 2 set (broadcasting by hand), run by ``check(...)``.

One test per graded part, on public inputs of the kinds the hidden tests use, with the grading
rules of ``fromscratch.rules.CH02``: shapes, strides and offsets exactly; distances within
tol·S, S = max_i ‖x_i‖² + max_j ‖y_j‖² (tol 1e-12 in float64, 1e-5 in float32).

Taught in: chapter 2, Broadcasting (its Exercises section).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH02


def drive_shape(target, shape_a, shape_b):
    """Call broadcast_shape; report its result, or the type and text of what it raised."""
    try:
        return {"result": target(tuple(shape_a), tuple(shape_b))}
    except Exception as exc:  # noqa: BLE001  (the exception is what this part tests)
        return {
            "raised": type(exc).__name__,
            "value_error": isinstance(exc, ValueError),
            "message": str(exc),
        }


def drive_view(target, base, make, shape):
    """Build the view t = make(base) (check() hands over copies, which would not be views), call
    broadcast_by_strides(t, shape), and report its result next to t."""
    t = make(base)
    out = target(t, tuple(shape))
    if type(out) is not torch.Tensor:
        return {"other": type(out).__name__}
    shares = out.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    return {"out": out, "t": t, "shares": shares}


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", text)}


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    def compatible() -> None:
        for a, b in (((10, 1, 3), (4, 1)), ((), (2, 1)), ((0, 1), (12,)), ((1, 12), (3, 1))):
            reply = run.call("broadcast_shape", a, b, driver=drive_shape)
            want = tuple(torch.broadcast_shapes(a, b))
            if "raised" in reply:
                raise Fail(
                    f"broadcast_shape{a, b} raised {reply['raised']}; these broadcast to {want}."
                )
            got = reply["result"]
            if not isinstance(got, tuple):
                raise Fail(
                    f"broadcast_shape{a, b} returned a {type(got).__name__}; return a tuple."
                )
            if tuple(got) != want:
                raise Fail(
                    f"broadcast_shape{a, b} returned {got}; expected {want} (align the"
                    " shapes from the right; 0 against 1 gives 0)."
                )

    def errors() -> None:
        for a, b, clash in (((3, 4), (5,), {4, 5}), ((2, 3), (2,), {2, 3}), ((0,), (3,), {0, 3})):
            reply = run.call("broadcast_shape", a, b, driver=drive_shape)
            if "result" in reply:
                raise Fail(
                    f"broadcast_shape{a, b} returned {reply['result']}; these shapes do not"
                    f" broadcast (sizes {sorted(clash)} clash): raise ValueError."
                )
            if not reply["value_error"]:
                raise Fail(f"broadcast_shape{a, b} raised {reply['raised']}; raise ValueError.")
            if not clash <= _numbers(reply["message"]):
                raise Fail(
                    f"broadcast_shape{a, b}: the ValueError message should name both"
                    f" clashing sizes {sorted(clash)} (and the dimension)."
                )

    def view(
        base: torch.Tensor,
        make: Callable,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        what: str,
    ) -> None:
        reply = run.call("broadcast_by_strides", base, make, shape, driver=drive_view)
        if "other" in reply:
            raise Fail(f"broadcast_by_strides returned a {reply['other']} for {what}.")
        out, t = reply["out"], reply["t"]
        if tuple(out.shape) != shape:
            raise Fail(f"for {what}: shape {tuple(out.shape)}, expected {shape}.")
        if not reply["shares"]:
            raise Fail(f"for {what}: the result is a copy; build it with t.as_strided, no copy.")
        if out.stride() != strides:
            raise Fail(
                f"for {what}: strides {out.stride()}, expected {strides} (stride 0 where"
                " stretched, t.stride() elsewhere)."
            )
        if out.storage_offset() != t.storage_offset():
            raise Fail(
                f"for {what}: storage offset {out.storage_offset()}, expected"
                f" t.storage_offset() = {t.storage_offset()}."
            )
        if not torch.equal(out, t.expand(shape)):
            raise Fail(f"for {what}: the values are not t broadcast to {shape}.")

    def contiguous() -> None:
        same = lambda t: t  # noqa: E731
        view(torch.arange(4.0).reshape(1, 4), same, (10, 2, 4), (0, 0, 1), "a (1, 4) row")
        view(torch.arange(3.0).reshape(3, 1), same, (2, 3, 10), (0, 1, 0), "a (3, 1) column")

    def views() -> None:
        base = torch.arange(24.0).reshape(4, 6)
        view(base, lambda b: b[1:, 2:3], (3, 10), (6, 0), "the slice base[1:, 2:3] (offset 8)")
        cube = torch.arange(12.0).reshape(1, 3, 4)
        view(
            cube,
            lambda c: c.transpose(0, 2),
            (2, 4, 3, 10),
            (0, 1, 4, 0),
            "a transposed (4, 3, 1) tensor with strides (1, 4, 12)",
        )

    def distances(dtype: torch.dtype, seed: int) -> Callable[[], None]:
        def test() -> None:
            g = torch.Generator().manual_seed(seed)
            x = (3.0 + torch.randn(6, 4, generator=g, dtype=torch.float64)).to(dtype)  # (6, 4)
            y = (3.0 + torch.randn(5, 4, generator=g, dtype=torch.float64)).to(dtype)  # (5, 4)
            try:
                got = run.call("pairwise_sq_distances", x, y)
            except Fail as fail:
                if "must match the size" not in str(fail):
                    raise
                raise Fail(
                    f"{fail}. Hint: x - y pairs row i with row i only; x[:, None, :] - "
                    "y[None, :, :] has shape (n, m, d) and pairs every x_i with every y_j."
                ) from None
            if not isinstance(got, torch.Tensor) or tuple(got.shape) != (6, 5):
                shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
                raise Fail(
                    f"pairwise_sq_distances of x (6, 4) and y (5, 4) gave {shape};"
                    " expected (n, m) = (6, 5): use x[:, None, :] - y[None, :, :]."
                )
            want = ((x.double()[:, None, :] - y.double()[None, :, :]) ** 2).sum(-1)  # (6, 5)
            s = float((x.double() ** 2).sum(1).max() + (y.double() ** 2).sum(1).max())
            tol = CH02.tolerances["float32" if dtype == torch.float32 else "float64"]
            err = float((got.double() - want).abs().max())
            if not err <= tol * s:
                kind = str(dtype).removeprefix("torch.")
                raise Fail(
                    f"pairwise_sq_distances ({kind}): max |D - E| = {err / s:.2g}·S;"
                    f" grading needs <= {tol:g}·S (is every difference squared?)."
                )

        return test

    return {
        "broadcast_shape_compatible": compatible,
        "broadcast_shape_errors": errors,
        "broadcast_by_strides_contiguous": contiguous,
        "broadcast_by_strides_views": views,
        "pairwise_sq_distances_float64": distances(torch.float64, 1),
        "pairwise_sq_distances_float32": distances(torch.float32, 2),
    }
