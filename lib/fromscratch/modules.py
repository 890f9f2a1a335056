"""nn.Module versions of the chapter-5 network, weight sharing, and a parameter table.

Convention: rows are samples. ``nn.Linear(d_in, d_out)`` stores ``weight`` with shape
``(d_out, d_in)`` and computes ``y = x @ weight.T + bias``; the from-scratch layers of
chapters 4-5 store ``w`` with shape ``(d_in, d_out)`` and compute ``y = x @ w + b``. So
``weight = w.T``, and the converter below transposes once.

Taught in: chapter 7, nn.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from fromscratch.layers import Linear, Model, ReLU


class TwoLayerNet(nn.Module):
    """Linear -> ReLU -> Linear as a custom module: ``y = relu(x W1^T + b1) W2^T + b2``.

    Shapes: ``x`` (n, d_in) -> hidden (n, hidden) -> ``y`` (n, d_out). Parameters:
    ``linear1.weight`` (hidden, d_in), ``linear1.bias`` (hidden,), ``linear2.weight``
    (d_out, hidden), ``linear2.bias`` (d_out,); in total
    ``d_in*hidden + hidden + hidden*d_out + d_out``.

    Taught in: chapter 7, nn (section "A custom module").
    """

    def __init__(self, d_in: int, hidden: int, d_out: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_in, hidden)  # assigning a Module registers it
        self.linear2 = nn.Linear(hidden, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (n, d_in) -> prediction (n, d_out)."""
        h = torch.relu(self.linear1(x))  # (n, d_in) -> (n, hidden)
        return self.linear2(h)  # (n, hidden) -> (n, d_out)


class DynamicNet(nn.Module):
    """A net whose depth is drawn at every call: one middle layer reused 0..max_reuses times.

    ``h_0 = relu(x A^T + a)``; ``h_k = relu(h_{k-1} M^T + m)`` for ``k = 1..K``;
    ``y = h_K B^T + c``. The same ``M, m`` serve every step, so ``dL/dM`` is the sum of the
    contributions of the ``K`` uses: ``dL/dM = sum_k (dL/dz_k)^T h_{k-1}`` with
    ``z_k = h_{k-1} M^T + m``. ``K`` is drawn uniformly from ``{0, ..., max_reuses}`` with
    ``generator`` (the global RNG if ``None``), so a seeded generator makes the sequence of
    depths reproducible; ``last_reuses`` records the ``K`` of the latest call.

    Taught in: chapter 7, nn (section "Dynamic control flow and weight sharing").
    """

    def __init__(
        self,
        d_in: int,
        hidden: int,
        d_out: int,
        *,
        max_reuses: int = 3,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if max_reuses < 0:
            raise ValueError(f"max_reuses must be 0 or more, got {max_reuses}.")
        self.input_linear = nn.Linear(d_in, hidden)
        self.middle_linear = nn.Linear(hidden, hidden)  # the shared layer
        self.output_linear = nn.Linear(hidden, d_out)
        self.max_reuses = max_reuses
        self.generator = generator  # a plain attribute: not a parameter, not in state_dict
        self.last_reuses: int | None = None

    def draw_reuses(self) -> int:
        """One draw of ``K``, uniform on ``{0, ..., max_reuses}``."""
        return int(torch.randint(0, self.max_reuses + 1, (), generator=self.generator))

    def forward(self, x: torch.Tensor, reuses: int | None = None) -> torch.Tensor:
        """``x`` (n, d_in) -> (n, d_out); the middle layer runs ``reuses`` times (drawn if None)."""
        k = self.draw_reuses() if reuses is None else reuses
        if k < 0:
            raise ValueError(f"reuses must be 0 or more, got {k}.")
        self.last_reuses = k
        h = torch.relu(self.input_linear(x))  # (n, d_in) -> (n, hidden)
        for _ in range(k):
            h = torch.relu(self.middle_linear(h))  # (n, hidden) -> (n, hidden), same weights
        return self.output_linear(h)  # (n, hidden) -> (n, d_out)


def count_parameters(module: nn.Module) -> list[tuple[str, tuple[int, ...], int]]:
    """One row per registered parameter: ``(name, shape, numel)``, in registration order.

    A parameter shared by two submodules appears once (``named_parameters`` de-duplicates),
    so ``sum(row[2])`` is the number of distinct trainable numbers.

    Taught in: chapter 7, nn.
    """
    return [(name, tuple(p.shape), p.numel()) for name, p in module.named_parameters()]


def parameter_table(module: nn.Module) -> str:
    """The rows of ``count_parameters`` as a Markdown table, with a total line."""
    rows = count_parameters(module)
    lines = ["| parameter | shape | count |", "|---|---|---:|"]
    lines += [f"| `{name}` | {shape} | {numel:,} |" for name, shape, numel in rows]
    lines.append(f"| **total** | | **{sum(r[2] for r in rows):,}** |")
    return "\n".join(lines)


def linear_to_module(layer: Linear) -> nn.Linear:
    """Copy a from-scratch ``Linear`` (w: (d_in, d_out), b: (d_out,)) into an ``nn.Linear``.

    The copy is independent (new storage); ``weight = w.T`` has shape (d_out, d_in).
    """
    d_in, d_out = layer.w.shape
    out = nn.Linear(d_in, d_out, dtype=layer.w.dtype, device=layer.w.device)
    with torch.no_grad():
        out.weight.copy_(layer.w.T)  # (d_in, d_out) -> (d_out, d_in)
        out.bias.copy_(layer.b.reshape(d_out))  # (d_out,) or (1, d_out) -> (d_out,)
    return out


def from_scratch_model_to_module(model: Model) -> nn.Sequential:
    """The layers of a chapter-5 ``Model`` as an ``nn.Sequential`` with the same weights.

    ``Linear`` becomes ``nn.Linear`` (weight transposed), ``ReLU`` becomes ``nn.ReLU``;
    layers are named ``linear1, relu1, linear2, ...``. The loss is not included: the
    ``MSE`` of chapter 4 (mean over all ``n * d_out`` entries) is ``nn.MSELoss()``.

    Raises:
        ValueError: if the model contains a layer type other than ``Linear`` and ``ReLU``.

    Taught in: chapter 7, nn (section "The chapter-5 model on nn.Module").
    """
    named: OrderedDict[str, nn.Module] = OrderedDict()
    counts = {"linear": 0, "relu": 0}
    for layer in model.layers:
        if isinstance(layer, Linear):
            kind, module = "linear", linear_to_module(layer)
        elif isinstance(layer, ReLU):
            kind, module = "relu", nn.ReLU()
        else:
            raise ValueError(
                f"Cannot convert a layer of type {type(layer).__name__}; only Linear and ReLU "
                "layers are supported."
            )
        counts[kind] += 1
        named[f"{kind}{counts[kind]}"] = module
    return nn.Sequential(named)
