"""gradients computed with NumPy arrays (a plain loop-free NumPy backward pass)."""

EXPECT = {"full": True}

import numpy as np

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    """NumPy for the arithmetic, tensors of the input dtype back."""
    dtype = W1.dtype
    X = np.atleast_2d(x.detach().numpy())
    Y = np.atleast_2d(y.detach().numpy())
    w1, c1, w2, c2 = (p.detach().numpy() for p in (W1, b1, W2, b2))
    h = 1 / (1 + np.exp(-(X @ w1.T + c1)))
    g = 2 * (h @ w2.T + c2 - Y) / Y.size
    gz = (g @ w2) * h * (1 - h)
    out = (gz.T @ X, gz.sum(0), g.T @ h, g.sum(0))
    return tuple(torch.from_numpy(np.ascontiguousarray(a)).to(dtype) for a in out)


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
