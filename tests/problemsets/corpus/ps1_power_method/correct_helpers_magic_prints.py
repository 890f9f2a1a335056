"""Helpers next to the answer, IPython magics in the answer cell, prints inside the function,
the ratio vᵀAv / vᵀv, and a %%time cell that calls the function."""

EXPECT = {"full": True}
EDITS = [
    {"op": "prepend", "grade_id": "power_method_answer", "source": "%matplotlib inline\n"},
    {
        "op": "insert_after",
        "grade_id": "power_method_answer",
        "source": "%%time\n"
        "estimate = power_method(torch.diag(torch.tensor([4.0, 1.0])), 30)\n"
        "!echo done\n"
        "torch.linalg.norm?",
    },
]

import torch


def unit(x):
    return x / torch.linalg.norm(x)


def rayleigh(A, x):
    return (x @ A @ x) / (x @ x)


def power_method(A, k):
    v = unit(torch.randn(A.shape[0], dtype=A.dtype))
    for step in range(k):
        v = unit(A @ v)
        if step % 100 == 0:
            print(f"step {step}: estimate {rayleigh(A, v).item():.6f}")
    return rayleigh(A, v)
