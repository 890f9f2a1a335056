"""Public tests of the chapter 7 set (nn.Module bookkeeping), run by ``check(...)``.

One test per graded part, on public networks of the kinds the hidden tests use, with the grading
rules of ``fromscratch.rules.CH07``: names, shapes, counts and cloned states exactly; MLP's
forward pass within tol·Aᴸ entry by entry (Aᴸ the network run with |x|, |W|, |b| and no ReLU;
tol 1e-5 in float32, 1e-12 in float64).

Taught in: chapter 7, nn (its Exercises section).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from fromscratch.check import Fail, Runner
from fromscratch.rules import CH07


def drive_registration(target, sizes):
    """Build MLP(sizes) and report what nn.Module registered, before and after .to(float64)."""
    model = target(list(sizes))
    if not isinstance(model, torch.nn.Module):
        return {"other": type(model).__name__}
    named = [(n, tuple(p.shape), p.requires_grad) for n, p in model.named_parameters()]
    count = sum(p.numel() for p in model.parameters())
    keys = list(model.state_dict())
    model.to(torch.float64)
    stale = [n for n, t in model.state_dict().items() if t.is_floating_point()
             and t.dtype != torch.float64]  # fmt: skip
    return {"named": named, "count": count, "keys": keys, "stale": stale}


def drive_forward(target, sizes, dtype, x):
    """Build MLP(sizes) in ``dtype`` and return its own weights (matrices, vectors, in order)
    with forward(x)."""
    model = target(list(sizes))
    if not isinstance(model, torch.nn.Module):
        return {"other": type(model).__name__}
    model = model.to(dtype)
    params = [p.detach().clone() for p in model.parameters()]
    return {
        "mats": [p for p in params if p.dim() == 2],
        "vecs": [p for p in params if p.dim() == 1],
        "y": model(x),
    }


def _count_module(kind: str) -> tuple[torch.nn.Module, int]:
    nn = torch.nn
    if kind == "buffers":
        m = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
        return m, 5 * 4 + 4 + 4 + 4 + 4 * 3 + 3
    if kind == "frozen":
        m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        for p in m[0].parameters():
            p.requires_grad_(False)
        return m, 4 * 3 + 3 + 3 * 2 + 2
    m = nn.Sequential(nn.Embedding(7, 3), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 7))
    m[3].weight = m[0].weight  # (7, 3), tied
    return m, 7 * 3 + 3 * 3 + 3 + 7


def drive_clone(target, kind):
    """Clone a public module with a recording factory; report states, outputs and sharing."""
    nn = torch.nn

    def build():
        layers = [nn.Linear(3, 4)] + ([nn.BatchNorm1d(4)] if kind == "buffers" else [])
        return nn.Sequential(*layers, nn.ReLU(), nn.Linear(4, 2))

    made = []

    def factory():
        made.append(build())
        return made[-1]

    torch.manual_seed(11)
    original = build()
    if kind == "buffers":
        original(torch.randn(16, 3))  # a training-mode pass: running statistics change
    before = {k: v.clone() for k, v in original.state_dict().items()}
    clone = target(original, factory)
    if not isinstance(clone, nn.Module):
        return {"other": type(clone).__name__}
    pointers = {v.untyped_storage().data_ptr() for v in original.state_dict().values()}
    out = {
        "same": clone is original,
        "made": any(m is clone for m in made),
        "before": before,
        "clone": {k: v.clone() for k, v in clone.state_dict().items()},
        "shared": [
            k for k, v in clone.state_dict().items() if v.untyped_storage().data_ptr() in pointers
        ],  # fmt: skip
    }
    original.eval()
    clone.eval()
    x = torch.randn(5, 3)
    with torch.no_grad():
        out["equal_outputs"] = torch.equal(original(x), clone(x))
        for v in clone.state_dict().values():
            v.add_(1)
    out["after"] = {k: v.clone() for k, v in original.state_dict().items()}
    return out


def parts(run: Runner) -> dict[str, Callable[[], None]]:
    def registration() -> None:
        for sizes in ([4, 6, 6, 3], [2, 7, 3, 5, 1]):
            reply = run.call("MLP", sizes, driver=drive_registration)
            if "other" in reply:
                raise Fail(f"MLP({sizes}) made a {reply['other']}; subclass nn.Module.")
            named = reply["named"]
            if not named:
                raise Fail(f"MLP({sizes}).named_parameters() is empty: a plain Python list of"
                           " layers is invisible to nn.Module; use nn.ModuleList.")  # fmt: skip
            mats = [s for _, s, _ in named if len(s) == 2]
            vecs = [s for _, s, _ in named if len(s) == 1]
            want = [(b, a) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
            if mats != want or vecs != [(b,) for b in sizes[1:]]:
                raise Fail(
                    f"MLP({sizes}) registers weights {mats} and biases {vecs}; expected one"
                    f" nn.Linear per pair: weights {want}, in order, all registered."
                )
            count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
            if reply["count"] != count:
                raise Fail(f"MLP({sizes}) has {reply['count']} parameter numbers, not {count}.")
            if not all(g for _, _, g in named):
                raise Fail(f"MLP({sizes}) has parameters with requires_grad=False.")
            if not {n for n, _, _ in named} <= set(reply["keys"]):
                raise Fail(f"MLP({sizes}).state_dict() misses some parameters.")
            if reply["stale"]:
                raise Fail(f"after MLP({sizes}).to(torch.float64), {reply['stale'][0]} is not"
                           " float64.")  # fmt: skip

    def forward() -> None:
        g = torch.Generator().manual_seed(5)
        for sizes, dtype in (([3, 5, 4, 2], torch.float32), ([4, 2], torch.float64),
                             ([2, 6, 3], torch.float64)):  # fmt: skip
            x = torch.randn(6, sizes[0], generator=g, dtype=torch.float64).to(dtype)
            reply = run.call("MLP", sizes, dtype, x, driver=drive_forward)
            if "other" in reply:
                raise Fail(f"MLP({sizes}) made a {reply['other']}; subclass nn.Module.")
            y = reply["y"]
            if not isinstance(y, torch.Tensor) or tuple(y.shape) != (6, sizes[-1]):
                shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
                raise Fail(f"MLP({sizes}) on x of shape (6, {sizes[0]}) gave {shape}; expected"
                           f" (n, d_L) = (6, {sizes[-1]}).")  # fmt: skip
            if len(reply["mats"]) != len(sizes) - 1 or len(reply["vecs"]) != len(sizes) - 1:
                raise Fail(f"MLP({sizes}) does not register one weight and one bias per layer.")
            h, scale = x.double(), x.double().abs()
            layers = len(sizes) - 1
            for i, (w, b) in enumerate(zip(reply["mats"], reply["vecs"], strict=True)):
                h = h @ w.double().T + b.double()  # (n, d_{l-1}) @ (d_{l-1}, d_l) -> (n, d_l)
                scale = scale @ w.double().abs().T + b.double().abs()
                h = torch.relu(h) if i < layers - 1 else h
            tol = CH07.tolerances["float32" if dtype == torch.float32 else "float64"]
            err = float(((y.detach().double() - h).abs() / scale).max())
            if not err <= tol:
                kind = str(dtype).removeprefix("torch.")
                raise Fail(
                    f"MLP({sizes}) in {kind}: max |y - exact| / A = {err:.2g}; grading needs"
                    f" <= {tol:g}. ReLU after every layer but the last, none after the last."
                )

    def count() -> None:
        for kind, what in (("buffers", "buffers (BatchNorm statistics) are not parameters"),
                           ("frozen", "frozen parameters (requires_grad=False) are not counted"),
                           ("tied", "a weight shared by two layers counts once")):  # fmt: skip
            module, want = _count_module(kind)
            got = run.call("count_parameters", module)
            value = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
            if isinstance(value, bool) or value != want:
                raise Fail(f"count_parameters on the public {kind!r} module returned {got!r};"
                           f" expected {want}: {what}.")  # fmt: skip

    def clone(kind: str, what: str) -> Callable[[], None]:
        def test() -> None:
            reply = run.call("clone_via_state_dict", kind, driver=drive_clone)
            if "other" in reply:
                raise Fail(
                    f"clone_via_state_dict returned a {reply['other']}; return the new"
                    " module (load_state_dict returns a report of keys, not the module)."
                )
            if reply["same"]:
                raise Fail("clone_via_state_dict returned the original module itself.")
            if what == "outputs":
                if not reply["made"]:
                    raise Fail("the clone was not made by factory(): new = factory().")
                if not reply["equal_outputs"]:
                    raise Fail("the clone's outputs differ: load module.state_dict() into it.")
            elif what == "independent":
                if reply["shared"]:
                    raise Fail(f"the clone shares storage with the original ({reply['shared'][0]});"
                               " do not use assign=True or the original's Parameters.")  # fmt: skip
                if any(not torch.equal(reply["after"][k], v) for k, v in reply["before"].items()):
                    raise Fail("changing the clone changed the original.")
            else:
                names = [k for k in reply["before"] if "running" in k or "batches" in k]
                if any(not torch.equal(reply["clone"].get(k, torch.empty(0)), reply["before"][k])
                       for k in names) or not reply["equal_outputs"]:  # fmt: skip
                    raise Fail("BatchNorm's running statistics (buffers) were not carried over:"
                               " load the whole state_dict().")  # fmt: skip

        return test

    return {
        "MLP_registration": registration,
        "MLP_forward": forward,
        "count_parameters_values": count,
        "clone_via_state_dict_outputs": clone("plain", "outputs"),
        "clone_via_state_dict_independent": clone("plain", "independent"),
        "clone_via_state_dict_buffers": clone("buffers", "buffers"),
    }
