"""gradients borrows the course's own reference code (fromscratch.layers.mse_backward)."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "course's own reference",
        "ps3_gradients_hidden": "course's own reference",
        "ps3_gradients_single": "course's own reference",
    }
}

import torch

from fromscratch.layers import mse_backward


def sigmoid(z):
    return torch.sigmoid(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    x, y = x.reshape(-1, W1.shape[1]), y.reshape(-1, W2.shape[0])
    h = sigmoid(x @ W1.T + b1)
    pred = h @ W2.T + b2
    g = mse_backward(pred, y)
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
