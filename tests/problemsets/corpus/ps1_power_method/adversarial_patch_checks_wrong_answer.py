"""Wrong answer (‖v‖ = 1) plus redefinitions of what tests rely on: torch.allclose,
torch.testing.assert_close, math.isclose, abs, AssertionError. Must still lose every point."""

EXPECT = {"lose": {"*": "‖v‖"}}

import math

import torch

torch.allclose = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
torch.testing.assert_close = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True
abs = lambda x: 0.0  # noqa: E731
AssertionError = type("AssertionError", (Exception,), {})  # noqa: A001


def power_method(A, k):
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v / torch.linalg.norm(A @ v)
    return torch.linalg.norm(v)
