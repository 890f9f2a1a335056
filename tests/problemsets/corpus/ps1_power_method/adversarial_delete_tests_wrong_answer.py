"""Wrong answer; deletes every graded test cell and the visible tests."""

EXPECT = {"lose": {"*": "forget `return`"}, "total": 0.0}
EDITS = [{"op": "delete", "grade_id": "*tests"}, {"op": "delete", "grade_id": "power_method_visible"}]

import torch


def power_method(A, k):
    pass
