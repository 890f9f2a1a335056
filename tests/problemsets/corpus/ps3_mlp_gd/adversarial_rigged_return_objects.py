"""Every function returns an object whose comparisons and arithmetic always 'succeed'."""

EXPECT = {"lose": {"*": None}, "total": 0.0}

import torch


class Anything(torch.Tensor):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return torch.zeros(()).as_subclass(Anything)

    __rsub__ = __sub__

    def __abs__(self):
        return torch.zeros(())

    def __lt__(self, other):
        return True

    __le__ = __lt__

    def allclose(self, *args, **kwargs):
        return True


class Liar:
    shape = dtype = None

    def __eq__(self, other):
        return True

    def __getattr__(self, name):
        return lambda *args, **kwargs: self

    def __iter__(self):
        return iter([self] * 4)

    def __len__(self):
        return 4

    def __float__(self):
        return 0.0


def sigmoid(z):
    return torch.zeros(1).as_subclass(Anything)


def forward(x, W1, b1, W2, b2):
    return Liar()


def mse_loss(pred, y):
    return Liar()


def gradients(x, y, W1, b1, W2, b2):
    return Liar()


def train(x, y, W1, b1, W2, b2, lr, steps):
    return Liar()
