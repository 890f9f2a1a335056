"""Public tests of the chapter 6 set (autograd from the inside), run by ``check(...)``.

One test per graded part, on public inputs of the kinds the hidden tests use, with the grading
rules of ``fromscratch.rules.CH06``: softplus values and gradients within tol·|exact| entry by
entry (tol 1e-10), Value data and grads within 1e-10·max(1, |torch's value|), central
differences within 1e-6·max(1, ‖∇f‖∞).

Taught in: chapter 6, Autograd (its Exercises section).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH06

TOL = CH06.tolerances["float64"]
CD_TOL = CH06.tolerances["central_difference"]


def drive_softplus(target, x, upstream):
    """Apply SoftplusFunction, take dL/dx by autograd and by calling backward directly."""
    x = x.detach().clone().requires_grad_(True)
    y = target.apply(x)
    if type(y) is not torch.Tensor or y.grad_fn is None:
        return {"y": y, "grad": None}
    saved = len(y.grad_fn.saved_tensors)
    direct = target.backward(y.grad_fn, upstream)
    direct = direct[0] if isinstance(direct, (tuple, list)) else direct
    if isinstance(direct, torch.Tensor):
        direct = direct.detach()
    (grad,) = torch.autograd.grad(y, x, upstream)
    ok = _jacobian_matches(target, torch.tensor([-2.0, -0.3, 0.7, 2.5], dtype=torch.float64))
    return {"y": y.detach(), "grad": grad, "direct": direct, "saved": saved, "gradcheck": ok}


def _jacobian_matches(target, p: torch.Tensor) -> bool:
    """gradcheck's test by hand (torch's gradcheck, when it fails, leaves the traps' mode): the
    Jacobian from backward against central differences of forward, step 1e-6,
    |analytic - numeric| <= 1e-5 + 1e-3 |numeric| entrywise."""
    eye, h = torch.eye(p.numel(), dtype=torch.float64), 1e-6
    with torch.no_grad():
        numeric = torch.stack(
            [(target.apply(p + h * e) - target.apply(p - h * e)) / (2 * h) for e in eye], dim=1
        )  # (n, n)
    point = p.clone().requires_grad_(True)
    y = target.apply(point)
    analytic = torch.stack([torch.autograd.grad(y, point, e, retain_graph=True)[0] for e in eye])
    return bool(((analytic - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs()).all())


def drive_central(target, x, eps, f):
    before = x.clone()
    g = target(f, x, eps)
    return {"grad": g, "changed": not torch.equal(x, before)}


def drive_value(target, build):
    """build(Value) -> (output node, {name: input node}); backward, then report."""
    out, inputs = build(target)
    data = float(out.data)
    out.backward()
    return {"data": data, "grads": {k: float(v.grad) for k, v in inputs.items()}}


def _f(t: torch.Tensor) -> torch.Tensor:
    v = t.reshape(-1)
    return (1.5 * v**2 + 0.1 * v**3 + 0.2 * torch.sin(0.9 * v)).sum() + (0.3 * v[:-1] * v[1:]).sum()


def _grad_f(x: torch.Tensor) -> torch.Tensor:
    v = x.reshape(-1)
    g = 3 * v + 0.3 * v**2 + 0.18 * torch.cos(0.9 * v)
    g[:-1] += 0.3 * v[1:]
    g[1:] += 0.3 * v[:-1]
    return g.reshape(x.shape)


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    x_sp = torch.tensor([-700.0, -50.0, -3.0, 0.5, 2.0, 30.0, 800.0], dtype=torch.float64)
    up = torch.tensor([1.5, -2.0, 0.5, 1.0, -1.0, 0.75, -1.25], dtype=torch.float64)

    def softplus_reply() -> dict:
        reply = run.call("SoftplusFunction", x_sp, up, driver=drive_softplus)
        if not isinstance(reply["y"], torch.Tensor):
            raise Fail("SoftplusFunction.apply(x) did not return a tensor with a grad_fn.")
        return reply

    def forward() -> None:
        y = softplus_reply()["y"].double()
        exact = x_sp.clamp(min=0) + torch.log1p(torch.exp(-x_sp.abs()))
        if not torch.isfinite(y).all():
            raise Fail(
                "softplus returned inf/nan at x = 800: exp(x) overflows; use"
                " max(x, 0) + log1p(exp(-|x|))."
            )
        if not (y > 0).all():
            raise Fail(
                "softplus returned 0 at very negative x (e.g. -50): 1 + exp(x) rounds to 1;"
                " use torch.log1p."
            )
        worst = float(((y - exact).abs() / exact).max())
        if not worst <= TOL:
            raise Fail(f"softplus: largest relative error {worst:.2g}; grading needs <= {TOL:g}.")

    def backward() -> None:
        reply = softplus_reply()
        if reply["grad"] is None:
            raise Fail("SoftplusFunction.apply(x) has no grad_fn: call it as .apply(x).")
        want = up * torch.sigmoid(x_sp)
        for key, how in (("grad", "torch.autograd.grad"), ("direct", "backward(ctx, grad)")):
            got = reply[key]
            if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(x_sp.shape):
                raise Fail(f"{how} did not give a tensor of x's shape.")
            worst = float(((got.double() - want).abs() / want.abs()).max())
            if not worst <= TOL:
                raise Fail(
                    f"dL/dx by {how}: largest relative error {worst:.2g} (grading needs <="
                    f" {TOL:g}); dL/dx = grad_output * sigmoid(x), stable at x = ±800."
                )
        if not reply["gradcheck"]:
            raise Fail(
                "gradcheck's test failed: the Jacobian from backward does not match central"
                " differences of forward."
            )
        if reply["saved"] < 1:
            raise Fail("forward saved nothing with ctx.save_for_backward (use it, not ctx.x = x).")

    def central(x: torch.Tensor, eps: float) -> None:
        reply = run.call("central_difference", x, eps, _f, driver=drive_central)
        g = reply["grad"]
        if reply["changed"]:
            raise Fail("central_difference changed x: restore each entry, or nudge a copy.")
        if not isinstance(g, torch.Tensor) or tuple(g.shape) != tuple(x.shape):
            raise Fail(f"central_difference should return a tensor of x's shape {tuple(x.shape)}.")
        if g.dtype != torch.float64:
            raise Fail(f"central_difference returned {g.dtype}; keep float64.")
        exact = _grad_f(x)
        scale = max(1.0, float(exact.abs().max()))
        err = float((g - exact).abs().max()) / scale
        if not err <= CD_TOL:
            raise Fail(
                f"central_difference: max |g - grad f| = {err:.2g}·max(1, |grad f|); grading needs"
                f" <= {CD_TOL:g} (central, not one-sided; divide by 2·eps)."
            )

    def value(build: Callable, what: str) -> None:
        reply = run.call("Value", build, driver=drive_value)
        nodes: dict[str, torch.Tensor] = {}
        out, names = build(lambda v: _Torch(v, nodes))
        out.t.backward()
        want_data = float(out.t.detach())
        if not abs(reply["data"] - want_data) <= TOL * max(1.0, abs(want_data)):
            raise Fail(
                f"Value, {what}: the output's data is {reply['data']!r}, torch: {want_data!r}."
            )
        for name, node in names.items():
            want = float(node.t.grad)
            got = reply["grads"][name]
            if not abs(got - want) <= TOL * max(1.0, abs(want)):
                raise Fail(
                    f"Value, {what}: {name}.grad = {got!r}, torch autograd gives {want!r}"
                    " (seed the output grad with 1, accumulate with +=, topological order)."
                )

    def arithmetic(V):
        a, b = V(1.5), V(-0.5)
        return (2 * a + b) * (b + 3) * 0.5 + 1, {"a": a, "b": b}

    def shared(V):
        a, b = V(0.75), V(-1.25)
        sq = a * a
        c = sq + a + (b + b)
        return c * sq + c * b, {"a": a, "b": b}

    def tanh_exp(V):
        w, x, bias = V(0.8), V(-1.2), V(0.3)
        return (w * x + bias).tanh() * 3 + (w * x).exp(), {"w": w, "x": x, "b": bias}

    return {
        "SoftplusFunction_forward": forward,
        "SoftplusFunction_backward": backward,
        "central_difference_vector": lambda: central(
            torch.tensor([0.3, -0.8, 0.5, 0.9, -0.1], dtype=torch.float64), 2e-4
        ),
        "central_difference_matrix": lambda: central(
            torch.tensor([[0.5, -0.25, 1.0], [-0.75, 0.1, 0.6]], dtype=torch.float64), 1e-4
        ),
        "Value_arithmetic": lambda: value(arithmetic, "(2*a + b) * (b + 3) * 0.5 + 1"),
        "Value_shared_nodes": lambda: value(shared, "nodes used more than once"),
        "Value_tanh_exp": lambda: value(tanh_exp, "tanh(w*x + b)*3 + exp(w*x)"),
    }


class _Torch:
    """The reference for the Value tests: the same expression on float64 torch scalars."""

    def __init__(self, v, nodes, t=None):
        self.nodes = nodes
        self.t = t if t is not None else torch.tensor(float(v), dtype=torch.float64,
                                                      requires_grad=True)  # fmt: skip

    def _other(self, o):
        return o.t if isinstance(o, _Torch) else o

    def __add__(self, o):
        return _Torch(None, self.nodes, self.t + self._other(o))

    def __mul__(self, o):
        return _Torch(None, self.nodes, self.t * self._other(o))

    __radd__ = __add__
    __rmul__ = __mul__

    def tanh(self):
        return _Torch(None, self.nodes, torch.tanh(self.t))

    def exp(self):
        return _Torch(None, self.nodes, torch.exp(self.t))
