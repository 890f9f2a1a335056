"""Returns a torch.Tensor subclass with rigged comparison and arithmetic operators."""

EXPECT = {"lose": {"*": "subclass of torch.Tensor"}}

import torch


class Always(torch.Tensor):
    def __eq__(self, other):
        return torch.tensor(True)

    def __sub__(self, other):
        return torch.tensor(0.0)

    def __abs__(self):
        return torch.tensor(0.0)

    def __lt__(self, other):
        return torch.tensor(True)

    def item(self):
        return 0.0


def power_method(A, k):
    return torch.zeros((), dtype=A.dtype).as_subclass(Always)
