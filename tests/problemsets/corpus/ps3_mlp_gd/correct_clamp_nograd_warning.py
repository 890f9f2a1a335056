"""Clamped sigmoid; gradients under torch.no_grad() and via torch.tensor(x) (a UserWarning on stderr
that must NOT cost points); SGD with zero_grad(set_to_none=False)."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    return 1.0 / (1.0 + torch.exp(-z.clamp(-80.0, 80.0)))


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return (pred - y).pow(2).mean()


def gradients(x, y, W1, b1, W2, b2):
    x = torch.tensor(x, dtype=W1.dtype)  # torch warns: copy-construct with .clone().detach()
    with torch.no_grad():
        X, Y = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
        S = sigmoid(X @ W1.T + b1)
        P = S @ W2.T + b2
        dP = 2 * (P - Y) / (P.shape[0] * P.shape[1])
        dZ = dP @ W2 * S * (1 - S)
        return dZ.T @ X, dZ.sum(0), dP.T @ S, dP.sum(0)


def train(x, y, W1, b1, W2, b2, lr, steps):
    optimizer = torch.optim.SGD([W1, b1, W2, b2], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=False)
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        loss.backward()
        losses.append(loss.detach().item())
        optimizer.step()
    return losses
