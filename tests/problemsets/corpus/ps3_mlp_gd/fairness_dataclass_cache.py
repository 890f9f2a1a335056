"""A dataclass caches the forward pass for the hand-written backward pass."""

EXPECT = {"full": True}

from dataclasses import dataclass

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass."""

    x: torch.Tensor
    h: torch.Tensor
    pred: torch.Tensor


def forward_cached(x, W1, b1, W2, b2):
    h = sigmoid(x @ W1.T + b1)
    return Cache(x, h, h @ W2.T + b2)


def gradients(x, y, W1, b1, W2, b2):
    single = x.dim() == 1
    c = forward_cached(x.unsqueeze(0) if single else x, W1, b1, W2, b2)
    g = 2 * (c.pred - (y.unsqueeze(0) if single else y)) / c.pred.numel()
    gz = (g @ W2) * c.h * (1 - c.h)
    return gz.T @ c.x, gz.sum(0), g.T @ c.h, g.sum(0)


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
