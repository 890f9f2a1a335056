"""A wrong answer that patches tolist, json.dumps and repr to forge what the grader reads."""

EXPECT = {"lose": {"*": None}, "total": 0.0}

import json

import torch

_shape_of_a = {}


def best_rank_approximation(A, r):
    _shape_of_a["shape"] = tuple(A.shape)
    return torch.zeros(1, dtype=A.dtype)


torch.Tensor.tolist = lambda self: [[0.0] * 4] * 4
torch.Tensor.__repr__ = lambda self: "tensor(ok)"
json.dumps = lambda *args, **kwargs: (
    '{"kind": "tensor", "dtype": "float64", "shape": [], "data": 0.0}'
)
