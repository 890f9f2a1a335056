"""Layer classes with backward methods (as in the chapter), gc/pathlib, and a scratch cell that
checks the functions with autograd outside them (allowed)."""

EXPECT = {"full": True}

# %% solution mse_backward_answer
import gc
import pathlib

import torch


class MSE:
    def __call__(self, pred, target):
        self.pred, self.target = pred, target
        return ((pred - target) ** 2).mean()

    def backward(self):
        return 2 * (self.pred - self.target) / self.pred.numel()


def mse_backward(pred, target):
    layer = MSE()
    layer(pred, target)
    return layer.backward()


# %% solution relu_backward_answer
class ReLU:
    def __call__(self, x):
        self.x = x
        return x.clamp(min=0)

    def backward(self, grad_out):
        return grad_out * (self.x > 0).to(grad_out.dtype)


def relu_backward(x, grad_out):
    layer = ReLU()
    layer(x)
    return layer.backward(grad_out)


# %% solution linear_backward_answer
class Linear:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, x):
        self.x = x
        return x @ self.w + self.b

    def backward(self, grad_out):
        self.grad_w = self.x.T @ grad_out
        self.grad_b = grad_out.sum(dim=0)
        return grad_out @ self.w.T


def linear_backward(x, w, b, grad_out):
    layer = Linear(w, b)
    layer(x)
    grad_x = layer.backward(grad_out)
    return grad_x, layer.grad_w, layer.grad_b


# %% cell at end
gc.collect()
pathlib.Path("notes.txt").write_text("checked with autograd\n")
leaf = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
target = torch.zeros(3, 2, dtype=torch.float64)
((leaf - target) ** 2).mean().backward()
print(torch.allclose(leaf.grad, mse_backward(leaf.detach(), target)))
