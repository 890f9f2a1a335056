"""Computes every gradient in float64 and casts back to the input dtype; a scratch cell after."""

EXPECT = {"full": True}

import torch


def mse_backward(pred, target):
    p, t = pred.double(), target.double()
    return (2 * (p - t) / p.numel()).to(pred.dtype)


def relu_backward(x, grad_out):
    return (grad_out.double() * (x.double() > 0).double()).to(grad_out.dtype)


def linear_backward(x, w, b, grad_out):
    xd, wd, gd = x.double(), w.double(), grad_out.double()
    out = (gd @ wd.T, xd.T @ gd, gd.sum(0))
    return tuple(t.to(x.dtype) for t in out)


# %% cell at end
print(mse_backward(torch.ones(2, 2), torch.zeros(2, 2)))
