"""The answer cell has a syntax error (a missing colon), so power_method is never defined."""

EXPECT = {"lose": {"*": "SyntaxError"}}
EDITS = [
    {
        "op": "set_source",
        "grade_id": "power_method_answer",
        "source": "def power_method(A, k):\n"
        "    v = torch.randn(A.shape[0], dtype=A.dtype)\n"
        "    for _ in range(k)\n"
        "        v = A @ v / torch.linalg.norm(A @ v)\n"
        "    return v @ A @ v\n",
    }
]

import torch
