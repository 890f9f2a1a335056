"""The function written to a file with %%writefile and loaded with %run, plus display()."""

EXPECT = {"full": True}
EDITS = [
    {
        "op": "set_source",
        "grade_id": "power_method_answer",
        "source": "%%writefile power.py\nimport torch\n\n\ndef power_method(A, k):\n"
        "    v = torch.randn(A.shape[0], dtype=A.dtype)\n    for _ in range(k):\n"
        "        v = A @ v\n        v = v / v.norm()\n    return v @ A @ v\n",
    },
    {
        "op": "insert_after",
        "grade_id": "power_method_answer",
        "source": "%run power.py\ndisplay(power_method(torch.eye(2, dtype=torch.float64), 3))",
    },
]

import torch  # noqa: F401  (the code is in EDITS: it uses IPython magics)
