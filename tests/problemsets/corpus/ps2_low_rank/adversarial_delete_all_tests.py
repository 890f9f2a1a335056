"""A wrong answer, and every graded test cell deleted from the notebook."""

EXPECT = {"lose": {"*": None}}  # cases passed by chance earn partial credit
EDITS = [{"op": "delete", "grade_id": "*tests"}]

import torch


def best_rank_approximation(A, r):
    return A[:r]
