"""Grader for the chapter 7 set: nn.Module bookkeeping.

Student API (chapter 7, ``fromscratch.modules`` implements the same ideas):

- ``MLP(sizes)``: an ``nn.Module`` subclass; ``sizes = [d_0, d_1, ..., d_L]`` gives one
  ``nn.Linear(d_{l-1}, d_l)`` per consecutive pair, registered (``nn.ModuleList``,
  ``nn.Sequential`` or attributes), and ``forward(x)`` maps ``x`` (n, d_0) to (n, d_L) with a ReLU
  between layers and none after the last.
- ``count_parameters(module)``: the number of trainable scalars, Σ p.numel() over the distinct
  parameters with ``requires_grad`` (a tied parameter counts once, buffers never).
- ``clone_via_state_dict(module, factory)``: ``new = factory()``, ``new.load_state_dict(
  module.state_dict())``, return ``new``: equal parameters and buffers, no shared storage.

Forbidden (``fromscratch.rules.CH07``): the course's reference code. ``nn.Linear`` and every other
``torch.nn`` building block are allowed and expected.

How a class is graded. The drivers below run in the sandbox with the student's object as
``target``: ``drive_registration`` builds ``MLP(sizes)`` and reports what ``nn.Module`` sees
(named parameters, the parameter count, ``state_dict`` keys, dtypes after ``.to(float64)``, and
plain Python lists of modules that it cannot see); ``drive_forward`` builds the MLP, converts it
to the case's dtype, writes the hidden weights into its registered parameters (the l-th matrix
parameter gets W_l, the l-th vector parameter b_l, in registration order) and returns forward(x).
``drive_count`` and ``drive_clone`` build the test modules in the sandbox (the builders live
inside the drivers, so the trusted process rebuilds exactly the same modules by calling the same
functions with a reference target). No student object ever reaches this process.

Tolerance of the forward pass (the only non-exact check). Let A⁰ = |x| and
Aˡ = A^{l-1}|W_l|ᵀ + |b_l| (the network with absolute values and no ReLU). One layer
z = h Wᵀ + b sums k + 1 ≤ d_max + 1 terms per entry, so its rounding is at most γ_{k+1}
(|h||W|ᵀ + |b|) with γ_m ≈ m·u, in any summation order; ReLU is exact and 1-Lipschitz, so
errors carried from earlier layers are multiplied by at most |W_l|. By induction (first order)
|ŷ − y| ≤ L·γ_{d_max+1}·Aᴸ elementwise. The hidden networks have L ≤ 4 layers and widths ≤ 8:
36·u, i.e. 2.1e-6 in float32 (tol 1e-5, margin 4.6) and 4e-15 in float64 (tol 1e-12, margin 250;
the float64 reference computed here adds as much again). A case passes when
max |ŷ − y| / Aᴸ ≤ tol, entry by entry. Everything else (names, shapes, counts, states, the
clone's outputs, which run the same code on the same numbers) is compared exactly.

Hidden inputs per submission: sizes, weights, inputs and module shapes are drawn from
``derive_seed(seed, "<grade_id>/<i>")``. A forward case is redrawn (deterministically) until
the ReLUs matter (leaving them out, or adding one after the last layer, moves the output by more
than 100·tol relative to Aᴸ), so those mistakes are always caught. Messages name the case's
kind and the likely mistake, never hidden numbers; ``hidden_values`` lists what must not appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from coursekit.verdicts.checks import (
    GradingFailure,
    Student,
    StudentError,
    derive_seed,
    part_checks,
)
from fromscratch.rules import CH07 as RULES

TOL = {torch.float32: RULES.tolerances["float32"], torch.float64: RULES.tolerances["float64"]}
SHORTCUT_HINTS = {
    "reference": "build it yourself from torch.nn pieces (nn.Module, nn.Linear, nn.ModuleList)",
}

CALL_TIMEOUT = 10.0  # seconds per call; every call here takes milliseconds
_DECIMAL = re.compile(r"\d*\.\d{3,}(?:[eE][-+]?\d+)?")


def _safe(error: StudentError) -> str:
    """The student's exception text without decimals of three or more digits: the sandbox already
    drops runs of numbers, and this drops a single hidden value printed on its own."""
    return _DECIMAL.sub("…", str(error))


# ----------------------------------------------------------------------------- drivers (sandbox)


def drive_registration(target, sizes):
    """Run in the sandbox: build MLP(sizes) and report what nn.Module registered."""
    import torch

    model = target(list(sizes))
    if not isinstance(model, torch.nn.Module):
        return {"other": type(model).__name__}
    hidden = []  # plain containers of modules: invisible to nn.Module
    for key, value in vars(model).items():
        if key.startswith("_"):
            continue
        items = value.values() if isinstance(value, dict) else value
        if isinstance(value, (list, tuple, dict)) and any(
            isinstance(m, torch.nn.Module) for m in items
        ):
            hidden.append(key)
    named = [[n, list(p.shape), bool(p.requires_grad)] for n, p in model.named_parameters()]
    count = sum(p.numel() for p in model.parameters())
    keys = list(model.state_dict().keys())
    model.to(torch.float64)
    floats = [[n, str(t.dtype)] for n, t in model.state_dict().items() if t.is_floating_point()]
    return {"named": named, "count": count, "keys": keys, "hidden": hidden, "floats": floats}


def drive_forward(target, sizes, dtype_name, weights, biases, x):
    """Run in the sandbox: build MLP(sizes), convert it to the dtype, write the hidden weights into
    its registered parameters (the l-th matrix gets W_l, the l-th vector b_l) and run forward."""
    import torch

    model = target(list(sizes))
    if not isinstance(model, torch.nn.Module):
        return {"other": type(model).__name__}
    model = model.to(getattr(torch, dtype_name))
    params = list(model.parameters())
    mats = [p for p in params if p.dim() == 2]
    vecs = [p for p in params if p.dim() == 1]
    layout = {"mats": [list(p.shape) for p in mats], "vecs": [list(p.shape) for p in vecs]}
    if layout["mats"] != [list(w.shape) for w in weights] or layout["vecs"] != [
        list(b.shape) for b in biases
    ]:
        return {"layout": layout}
    with torch.no_grad():
        for p, w in zip(mats, weights, strict=True):
            p.copy_(w)
        for p, b in zip(vecs, biases, strict=True):
            p.copy_(b)
    y = model(x)
    if type(y) is not torch.Tensor:
        return {"other_output": type(y).__name__}
    return {"y": y.detach().clone()}


def drive_count(target, kind, sizes):
    """Run in the sandbox: build a test module of the given kind and call count_parameters."""
    import torch
    from torch import nn

    a, b, c = sizes
    if kind == "buffers":  # BatchNorm: running statistics are buffers, not parameters
        module = nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Linear(b, c))
    elif kind == "frozen":  # the first layer frozen, as when fine-tuning
        module = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(),
                               nn.Linear(c, a))  # fmt: skip
        for p in module[0].parameters():
            p.requires_grad_(False)
    else:  # "tied": an embedding (a, b) whose weight the output layer Linear(b, a) reuses
        module = nn.Sequential(nn.Embedding(a, b), nn.Linear(b, b), nn.ReLU(), nn.Linear(b, a))
        module[3].weight = module[0].weight  # the same Parameter in two places
    result = target(module)
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        return {"value": result.reshape(()).item(), "kind": "tensor"}
    if isinstance(result, (int, float)):
        return {"value": result, "kind": type(result).__name__}
    return {"other": type(result).__name__}


def drive_clone(target, kind, sizes, seed):
    """Run in the sandbox: build a module with known state, clone it with the student's
    clone_via_state_dict and a factory that records what it made, and report both states, both
    outputs (eval mode), shared storage, and the original's state after the clone is changed."""
    import torch
    from torch import nn

    a, b, c = sizes

    def build():
        layers = [nn.Linear(a, b)]
        if kind == "buffers":
            layers.append(nn.BatchNorm1d(b))
        layers += [nn.ReLU(), nn.Linear(b, c)]
        return nn.Sequential(*layers)

    made = []

    def factory():
        torch.manual_seed(seed + 1)  # another initialisation than the original's
        module = build()
        made.append(module)
        return module

    g = torch.Generator().manual_seed(seed)
    original = build()
    with torch.no_grad():
        for p in original.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
        if kind == "buffers":
            bn = original[1]
            bn.running_mean.copy_(torch.randn(b, generator=g))
            bn.running_var.copy_(0.5 + torch.rand(b, generator=g))
            bn.num_batches_tracked.fill_(int(torch.randint(3, 50, (), generator=g)))
    x = torch.randn(5, a, generator=g)

    def state(module):
        return {k: v.detach().clone() for k, v in module.state_dict().items()}

    clone = target(original, factory)
    if not isinstance(clone, nn.Module):
        return {"other": type(clone).__name__}
    out = {
        "same_object": clone is original,
        "from_factory": any(m is clone for m in made),
        "original": state(original),
        "clone": state(clone),
    }
    pointers = {v.untyped_storage().data_ptr() for v in original.state_dict().values()}
    out["shared"] = [
        k for k, v in clone.state_dict().items() if v.untyped_storage().data_ptr() in pointers
    ]
    original.eval()
    clone.eval()
    with torch.no_grad():
        out["y_original"] = original(x).clone()
        try:
            out["y_clone"] = clone(x).clone()
        except Exception as exc:  # noqa: BLE001  (a clone that cannot run is the graded outcome)
            out["clone_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        for v in clone.state_dict().values():  # change every number of the clone
            v.add_(1)
    out["original_after"] = state(original)
    return out


# ----------------------------------------------------------------------------- MLP


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randint(g: torch.Generator, lo: int, hi: int) -> int:
    """An int in [lo, hi], inclusive."""
    return int(torch.randint(lo, hi + 1, (), generator=g))


def registration_sizes(seed: int) -> list[int]:
    g = _gen(seed)
    depth = _randint(g, 2, 4)
    return [_randint(g, 2, 8) for _ in range(depth + 1)]


def _expected_layout(sizes: list[int]) -> tuple[list[list[int]], list[list[int]]]:
    mats = [[sizes[i + 1], sizes[i]] for i in range(len(sizes) - 1)]  # (d_out, d_in)
    return mats, [[s] for s in sizes[1:]]


def _run_registration(student: Student, seed: int) -> None:
    sizes = registration_sizes(seed)
    layers = len(sizes) - 1
    where = f"On MLP(sizes) with {len(sizes)} sizes ({layers} Linear layers)"
    try:
        reply = student.call("MLP", sizes, timeout=CALL_TIMEOUT, driver=drive_registration)
    except StudentError as error:
        raise StudentError(f"{where}: {_safe(error)}") from None
    if "other" in reply:
        raise GradingFailure(
            f"{where}: MLP(sizes) made a {reply['other']}; MLP must be a subclass of nn.Module."
        )
    mats, vecs = _expected_layout(sizes)
    named = reply["named"]
    got_mats = [shape for _, shape, _ in named if len(shape) == 2]
    got_vecs = [shape for _, shape, _ in named if len(shape) == 1]
    if not named:
        raise GradingFailure(
            f"{where}: named_parameters() is empty, so an optimiser would see nothing and "
            "state_dict() saves nothing. A plain Python list of layers is invisible to "
            "nn.Module: keep the layers in an nn.ModuleList."
        )
    if len(got_mats) < layers:  # a plain container alone is harmless if all is registered
        what = (
            f"the attribute {reply['hidden'][0]!r} is a plain Python container of modules"
            if reply["hidden"]
            else "some layers are not registered"
        )
        raise GradingFailure(
            f"{where}: nn.Module registers {len(got_mats)} of the {layers} weight matrices; "
            f"{what}. Use nn.ModuleList (or nn.Sequential) so that parameters(), state_dict() "
            "and .to() reach every layer."
        )
    if got_mats != mats or got_vecs != vecs:
        if [list(reversed(s)) for s in got_mats] == mats:
            raise GradingFailure(
                f"{where}: the weights have shape (d_in, d_out); nn.Linear(d_in, d_out) stores "
                "its weight as (d_out, d_in). Build the layers with nn.Linear."
            )
        if len(got_mats) > layers:
            raise GradingFailure(
                f"{where}: there are {len(got_mats)} weight matrices for {layers} consecutive "
                "pairs of sizes; make one nn.Linear(sizes[i], sizes[i + 1]) per pair."
            )
        raise GradingFailure(
            f"{where}: the parameters do not have the shapes of nn.Linear(sizes[i], sizes[i + 1])"
            " for each consecutive pair (a weight (d_out, d_in) and a bias (d_out,) per layer),"
            " in order."
        )
    if not all(grad for _, _, grad in named):
        raise GradingFailure(f"{where}: some parameters have requires_grad=False; keep them all "
                             "trainable (nn.Linear's default).")  # fmt: skip
    expected_count = sum((sizes[i] + 1) * sizes[i + 1] for i in range(layers))
    if reply["count"] != expected_count:
        raise GradingFailure(
            f"{where}: the parameters hold {reply['count']} numbers; the layers need "
            "Σ (d_in + 1)·d_out. Is a layer registered twice or shared?"
        )
    missing = [n for n, _, _ in named if n not in reply["keys"]]
    if missing:
        raise GradingFailure(f"{where}: state_dict() lacks {missing[0]!r}.")
    stale = [n for n, dtype in reply["floats"] if dtype != "torch.float64"]
    if stale:
        raise GradingFailure(
            f"{where}: after model.to(torch.float64), {stale[0]!r} is still not float64."
        )


@dataclass(frozen=True)
class ForwardCase:
    sizes: list[int]
    dtype: torch.dtype
    weights: list[torch.Tensor]  # W_l, (d_l, d_{l-1})
    biases: list[torch.Tensor]  # b_l, (d_l,)
    x: torch.Tensor  # (n, d_0)

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    def describe(self) -> str:
        kind = str(self.dtype).removeprefix("torch.")
        return f"a {kind} MLP with {self.layers} Linear layer{'s' * (self.layers > 1)}"


def mlp_forward(case: ForwardCase, relu_between: bool = True, relu_last: bool = False):
    """The forward pass in float64, and the scale Aᴸ of the rounding bound (see docstring)."""
    h = case.x.double()
    scale = h.abs()
    for i, (w, b) in enumerate(zip(case.weights, case.biases, strict=True)):
        w, b = w.double(), b.double()
        h = h @ w.T + b  # (n, d_{l-1}) @ (d_{l-1}, d_l) -> (n, d_l)
        scale = scale @ w.abs().T + b.abs()
        last = i == case.layers - 1
        if (relu_between and not last) or (relu_last and last):
            h = torch.relu(h)
    return h, scale


# (number of Linear layers, dtype) of the forward cases
FORWARD_CASES = ((1, torch.float64), (3, torch.float32), (2, torch.float64), (4, torch.float32))


def forward_case(seed: int, layers: int, dtype: torch.dtype) -> ForwardCase:
    """A hidden network and input, redrawn until the ReLUs visibly matter (see docstring)."""
    g = _gen(seed)
    tol = TOL[dtype]
    for _ in range(100):
        sizes = [_randint(g, 2, 8) for _ in range(layers + 1)]
        ws = [
            (torch.randn(sizes[i + 1], sizes[i], generator=g, dtype=torch.float64)
             / sizes[i] ** 0.5).to(dtype)
            for i in range(layers)
        ]  # fmt: skip
        bs = [(0.5 * torch.randn(s, generator=g, dtype=torch.float64)).to(dtype) for s in sizes[1:]]
        x = torch.randn(_randint(g, 4, 6), sizes[0], generator=g, dtype=torch.float64).to(dtype)
        case = ForwardCase(sizes, dtype, ws, bs, x)
        y, scale = mlp_forward(case)
        last, _ = mlp_forward(case, relu_last=True)
        gaps = [float(((last - y).abs() / scale).max())]
        if layers > 1:
            linear, _ = mlp_forward(case, relu_between=False)
            gaps.append(float(((linear - y).abs() / scale).max()))
        if min(gaps) > 100 * tol:
            return case
    raise RuntimeError("no forward case found")  # pragma: no cover (never within 100 draws)


def _diagnose_forward(case: ForwardCase, y: torch.Tensor) -> str | None:
    want, scale = mlp_forward(case)
    tol = TOL[case.dtype]

    def err(other: torch.Tensor) -> float:
        return float(((y.double() - other).abs() / scale).max())

    if err(want) <= tol:
        return None
    if not bool(torch.isfinite(y).all()):
        return "the output has nan or inf entries."
    if err(mlp_forward(case, relu_last=True)[0]) <= tol:
        return ("the output has a ReLU after the last layer: the last layer's output is returned "
                "as it is (it may be negative), ReLU only between layers.")  # fmt: skip
    if case.layers > 1 and err(mlp_forward(case, relu_between=False)[0]) <= tol:
        return (
            "the output has no ReLU between the layers: apply ReLU after every layer but the last."
        )
    if case.layers > 1 and err(mlp_forward(case, relu_between=False, relu_last=True)[0]) <= tol:
        return ("ReLU is applied once, at the end: apply it after every layer but the last, "
                "inside the loop.")  # fmt: skip
    return (
        f"the output is off by {err(want):.2g}·Aᴸ (the Rules cell's scale); expected "
        "relu between the layers: h ← relu(layer(h)) for every layer but the last."
    )


def _run_forward(student: Student, case: ForwardCase) -> None:
    where = f"On {case.describe()}"
    try:
        reply = student.call(
            "MLP",
            case.sizes,
            str(case.dtype).removeprefix("torch."),
            case.weights,
            case.biases,
            case.x,
            timeout=CALL_TIMEOUT,
            driver=drive_forward,
        )
    except StudentError as error:
        text = _safe(error)
        if "dtype" in text or "expected" in text and "Float" in text:
            text += (" Hint: the grader converts the model with model.to(dtype); layers kept in a "
                     "plain list are not converted (use nn.ModuleList).")  # fmt: skip
        raise StudentError(f"{where}: {text}") from None
    if "other" in reply:
        raise GradingFailure(f"{where}: MLP(sizes) made a {reply['other']}, not an nn.Module.")
    if "layout" in reply:
        raise GradingFailure(
            f"{where}: the grader sets the weights through the registered parameters, but they "
            "are not one (d_out, d_in) weight and one (d_out,) bias per consecutive pair of sizes "
            "(see the registration part: are all layers registered, as nn.Linear?)."
        )
    if "other_output" in reply:
        raise GradingFailure(
            f"{where}: forward returned a {reply['other_output']}; return a tensor."
        )
    y = reply["y"]
    n, d_out = case.x.shape[0], case.sizes[-1]
    if tuple(y.shape) != (n, d_out):
        raise GradingFailure(
            f"{where}: forward returned shape {tuple(y.shape)}; expected (n, d_L) = {(n, d_out)}."
        )
    if y.dtype != case.dtype:
        raise GradingFailure(
            f"{where}: forward returned {y.dtype}; keep the dtype of the input and the model."
        )
    problem = _diagnose_forward(case, y)
    if problem:
        raise GradingFailure(f"{where}: {problem}")


# ----------------------------------------------------------------------------- count_parameters


COUNT_KINDS = {
    "buffers": "a Linear-BatchNorm-ReLU-Linear network (BatchNorm has buffers)",
    "frozen": "a three-layer network whose first layer is frozen (requires_grad=False)",
    "tied": "an embedding whose weight is shared (tied) with the output layer",
}


def count_sizes(seed: int) -> list[int]:
    g = _gen(seed)
    return [_randint(g, 3, 9) for _ in range(3)]


def _counts(kind: str, sizes: list[int]) -> dict[str, int]:
    """The right count and the counts of the usual mistakes, on the same module built here."""

    def numel(tensors) -> int:
        return sum(int(t.numel()) for t in tensors)

    routes = {
        "right": lambda m: numel(p for p in m.parameters() if p.requires_grad),
        "frozen": lambda m: numel(m.parameters()),
        "state_dict": lambda m: numel(m.state_dict().values()),
        "duplicates": lambda m: numel(
            p for _, p in m.named_parameters(remove_duplicate=False) if p.requires_grad
        ),
        "tensors": lambda m: len([p for p in m.parameters() if p.requires_grad]),
    }
    return {name: drive_count(f, kind, sizes)["value"] for name, f in routes.items()}


def _run_count(student: Student, kind: str, sizes: list[int]) -> None:
    where = f"On {COUNT_KINDS[kind]}"
    try:
        reply = student.call("count_parameters", kind, sizes, timeout=CALL_TIMEOUT,
                             driver=drive_count)  # fmt: skip
    except StudentError as error:
        raise StudentError(f"{where}: {_safe(error)}") from None
    if "other" in reply:
        raise GradingFailure(
            f"{where}: count_parameters returned a {reply['other']}; return an int."
        )
    if reply["kind"] == "bool":
        raise GradingFailure(f"{where}: count_parameters returned a bool; return an int.")
    value, counts = reply["value"], _counts(kind, sizes)
    if value == counts["right"]:
        return
    if value == counts["tensors"]:
        raise GradingFailure(
            f"{where}: count_parameters returned the number of parameter tensors; count the "
            "scalars in them (p.numel())."
        )
    if kind == "frozen" and value == counts["frozen"]:
        raise GradingFailure(
            f"{where}: the count includes frozen parameters; count only those with p.requires_grad."
        )
    if kind == "buffers" and value == counts["state_dict"]:
        raise GradingFailure(
            f"{where}: the count includes buffers (BatchNorm's running statistics): state_dict()"
            " holds buffers too; count module.parameters()."
        )
    if kind == "tied" and value in (counts["duplicates"], counts["state_dict"]):
        raise GradingFailure(
            f"{where}: the shared weight is counted twice; module.parameters() lists a shared "
            "parameter once (named_parameters(remove_duplicate=False) and state_dict() do not)."
        )
    raise GradingFailure(
        f"{where}: count_parameters returned {value!r}, not the number of trainable scalars "
        "(Σ p.numel() over the parameters with requires_grad)."
    )


# ----------------------------------------------------------------------------- clone_via_state_dict


CLONE_KINDS = {
    "plain": "a Linear-ReLU-Linear network",
    "buffers": "a Linear-BatchNorm-ReLU-Linear network with running statistics",
}


def clone_inputs(seed: int) -> tuple[list[int], int]:
    g = _gen(seed)
    return [_randint(g, 2, 8) for _ in range(3)], _randint(g, 0, 2**30)


def _reference_clone(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new


def _clone_reply(student: Student, kind: str, seed: int) -> tuple[dict, dict, str]:
    sizes, draw = clone_inputs(seed)
    where = f"On {CLONE_KINDS[kind]}"
    try:
        reply = student.call("clone_via_state_dict", kind, sizes, draw, timeout=CALL_TIMEOUT,
                             driver=drive_clone)  # fmt: skip
    except StudentError as error:
        raise StudentError(f"{where}: {_safe(error)}") from None
    if "other" in reply:
        hint = (
            " load_state_dict returns a report of missing and unexpected keys, not the module: "
            "keep the new module in a variable and return it."
            if reply["other"] == "_IncompatibleKeys"
            else " Return the new module."
        )
        raise GradingFailure(
            f"{where}: clone_via_state_dict returned a {reply['other']}, not an nn.Module.{hint}"
        )
    if reply["same_object"]:
        raise GradingFailure(
            f"{where}: clone_via_state_dict returned the original module itself; make a new "
            "one with factory() and load the original's state_dict() into it."
        )
    if "clone_error" in reply:
        raise GradingFailure(f"{where}: the clone cannot run forward: {reply['clone_error']}")
    return reply, drive_clone(_reference_clone, kind, sizes, draw), where


def _same_state(got: dict, want: dict, names: list[str]) -> list[str]:
    """The names among ``names`` whose tensors differ (or are missing) in ``got``."""
    return [
        k for k in names
        if k not in got or got[k].shape != want[k].shape or not torch.equal(got[k], want[k])
    ]  # fmt: skip


BUFFER_NAMES = ("running_mean", "running_var", "num_batches_tracked")


def _run_clone_outputs(student: Student, seed: int) -> None:
    reply, want, where = _clone_reply(student, "plain", seed)
    if not reply["from_factory"]:
        raise GradingFailure(
            f"{where}: the returned module was not made by factory(); build the new module with "
            "new = factory() and load the state into it."
        )
    params = [k for k in want["clone"] if not k.endswith(BUFFER_NAMES)]
    if _same_state(reply["clone"], want["clone"], params):
        raise GradingFailure(
            f"{where}: the clone's parameters differ from the original's: load them with "
            "new.load_state_dict(module.state_dict())."
        )
    if not torch.equal(reply["y_clone"], reply["y_original"]):
        raise GradingFailure(f"{where}: the clone's outputs differ from the original's.")


def _run_clone_independent(student: Student, seed: int) -> None:
    reply, want, where = _clone_reply(student, "plain", seed)
    if reply["shared"]:
        raise GradingFailure(
            f"{where}: the clone shares storage with the original ({reply['shared'][0]!r}): "
            "changing one changes the other. load_state_dict copies into the new module's own "
            "tensors (do not pass assign=True, do not assign the original's Parameters)."
        )
    if _same_state(reply["original_after"], want["original"], list(want["original"])):
        raise GradingFailure(
            f"{where}: changing the clone changed the original (or the original was modified "
            "while cloning); the clone must have its own tensors."
        )


def _run_clone_buffers(student: Student, seed: int) -> None:
    reply, want, where = _clone_reply(student, "buffers", seed)
    buffers = [k for k in want["clone"] if k.endswith(BUFFER_NAMES)]
    if _same_state(reply["clone"], want["clone"], buffers):
        raise GradingFailure(
            f"{where}: BatchNorm's running statistics (buffers) were not carried over: they are "
            "in state_dict() but not in parameters(). Load the whole state_dict()."
        )
    if not torch.equal(reply["y_clone"], reply["y_original"]):
        raise GradingFailure(
            f"{where}: the clone's outputs in eval mode differ from the original's; load the "
            "whole state_dict() (parameters and buffers)."
        )


# ----------------------------------------------------------------------------- parts


def cases_for(seed: int, grade_id: str) -> list[tuple[int, int]]:
    """The hidden cases of one part for the submission's ``seed``: (case seed, case index)."""
    return [(derive_seed(seed, f"{grade_id}/{i}"), i) for i in range(PARTS[grade_id][0])]


def _runner(grade_id: str):
    run = PARTS[grade_id][1]
    return lambda student, case: run(student, *case)


def _forward_run(student: Student, case_seed: int, i: int) -> None:
    layers, dtype = FORWARD_CASES[i]
    _run_forward(student, forward_case(case_seed, layers, dtype))


COUNT_CASES = ("buffers", "frozen", "tied")

PARTS = {
    "MLP_registration": (2, lambda s, cs, i: _run_registration(s, cs)),
    "MLP_forward": (len(FORWARD_CASES), _forward_run),
    "count_parameters_values": (
        len(COUNT_CASES),
        lambda s, cs, i: _run_count(s, COUNT_CASES[i], count_sizes(cs)),
    ),
    "clone_via_state_dict_outputs": (2, lambda s, cs, i: _run_clone_outputs(s, cs)),
    "clone_via_state_dict_independent": (1, lambda s, cs, i: _run_clone_independent(s, cs)),
    "clone_via_state_dict_buffers": (2, lambda s, cs, i: _run_clone_buffers(s, cs)),
}
DESCRIPTIONS = {
    "MLP_registration": "MLP registers one nn.Linear per pair of sizes (names, shapes, count,"
    " state_dict, .to(float64))",
    "MLP_forward": "MLP's forward pass (ReLU between layers, none after the last), float32 and"
    " float64",
    "count_parameters_values": "count_parameters with buffers, frozen and tied parameters",
    "clone_via_state_dict_outputs": "clone_via_state_dict: a new module from factory() with the"
    " same parameters and outputs",
    "clone_via_state_dict_independent": "clone_via_state_dict: no shared storage with the original",
    "clone_via_state_dict_buffers": "clone_via_state_dict carries buffers (BatchNorm running"
    " statistics)",
}
POINTS = {
    "MLP_registration": 2,
    "MLP_forward": 2,
    "count_parameters_values": 2,
    "clone_via_state_dict_outputs": 2,
    "clone_via_state_dict_independent": 1,
    "clone_via_state_dict_buffers": 1,
}

CHECKS = part_checks(RULES, PARTS, POINTS, DESCRIPTIONS, cases_for, _runner)


def hidden_values(seed: int) -> list[str]:
    """Strings that must never appear in the feedback of the submission graded with ``seed``:
    the hidden weights, inputs and expected outputs of the forward cases, as printed."""
    out = []
    for i, (layers, dtype) in enumerate(FORWARD_CASES):
        case = forward_case(derive_seed(seed, f"MLP_forward/{i}"), layers, dtype)
        y, _ = mlp_forward(case)
        for t in (case.weights[0], case.x, y):
            values = t.reshape(-1).tolist()[:3]
            out += [f"{v:.4f}" for v in values if abs(v) > 1e-3] + [repr(v) for v in values]
    return out
