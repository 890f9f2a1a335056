"""Gutted graded cells, and a forward that raises with one hidden input value in its message (to
read it from the feedback)."""

EXPECT = {"lose": {"MLP_forward": None}}
EDITS = [
    {"op": "set_source", "grade_id": "MLP_registration", "source": "pass"},
    {"op": "set_source", "grade_id": "MLP_forward", "source": "print('passed')"},
]

from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        raise ValueError(f"leak {float(x[0, 0])!r} and {float(x[0, 1]):.4f}")


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clone_via_state_dict(module, factory):
    new = factory()
    new.load_state_dict(module.state_dict())
    return new
