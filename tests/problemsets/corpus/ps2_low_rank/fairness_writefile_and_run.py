"""The function written to a file with %%writefile and loaded with %run, plus display()."""

EXPECT = {"full": True}
EDITS = [
    {
        "op": "set_source",
        "grade_id": "ps2_solution",
        "source": "%%writefile lowrank.py\nimport torch\n\n\ndef best_rank_approximation(A, r):\n"
        "    U, S, Vh = torch.linalg.svd(A, full_matrices=False)\n"
        "    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]\n",
    },
    {
        "op": "insert_after",
        "grade_id": "ps2_solution",
        "source": "%run lowrank.py\ndisplay(best_rank_approximation(torch.eye(3), 1))",
    },
]

import torch  # noqa: F401  (the code is in EDITS: it uses IPython magics)
