"""A dataclass holding the iteration state, a method per step, and display() of the history."""

EXPECT = {"full": True}

from dataclasses import dataclass, field

import torch


@dataclass
class PowerState:
    A: torch.Tensor
    v: torch.Tensor
    history: list = field(default_factory=list)

    def step(self) -> None:
        w = self.A @ self.v
        self.v = w / torch.sqrt(w @ w)
        self.history.append(float(self.v @ self.A @ self.v))


def power_method(A, k):
    state = PowerState(A, torch.randn(A.shape[0], dtype=A.dtype))
    for _ in range(k):
        state.step()
    return state.v @ A @ state.v


# %% cell at end
s = PowerState(torch.eye(2), torch.ones(2))
s.step()
display(s.history)  # noqa: F821  (a notebook builtin)
