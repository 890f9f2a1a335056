"""gradients is an instance of a class with __call__."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


class ManualGradients:
    """gradients as an object with __call__ (it remembers how many times it ran)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x, y, W1, b1, W2, b2):
        self.calls += 1
        x, y = torch.atleast_2d(x), torch.atleast_2d(y)
        h = sigmoid(x @ W1.T + b1)
        g = 2 * (h @ W2.T + b2 - y) / y.numel()
        gz = (g @ W2) * h * (1 - h)
        return gz.T @ x, gz.sum(0), g.T @ h, g.sum(0)


gradients = ManualGradients()


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
