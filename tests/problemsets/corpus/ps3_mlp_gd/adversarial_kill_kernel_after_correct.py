"""Correct answers, then a cell that SIGKILLs its own kernel: the work keeps its points."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    t = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + t), t / (1 + t))


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    if x.dim() == 1:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    h = sigmoid(x @ W1.T + b1)
    pred = h @ W2.T + b2
    g = 2 * (pred - y) / pred.numel()
    gz = (g @ W2) * h * (1 - h)
    return gz.T @ x, gz.sum(0), g.T @ h, g.sum(0)


def train(x, y, W1, b1, W2, b2, lr, steps):
    losses = []
    for _ in range(steps):
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        losses.append(loss.item())
        for p in (W1, b1, W2, b2):
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in (W1, b1, W2, b2):
                p -= lr * p.grad
    return losses


# %% cell after ps3_gradients_hidden
import os as _os_module

_os_module.kill(_os_module.getpid(), 9)
