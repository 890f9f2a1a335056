"""The backward pass as a recursion over the list of layers."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def chain(layers, g, grads):
    """Back-propagate g through layers (last first), recursively, collecting (dW, db)."""
    if not layers:
        return grads
    (W, a_in, h_out), rest = layers[-1], layers[:-1]
    if h_out is not None:
        g = g * h_out * (1 - h_out)
    grads = [(g.T @ a_in, g.sum(0)), *grads]
    return chain(rest, g @ W, grads)


def gradients(x, y, W1, b1, W2, b2):
    x, y = torch.atleast_2d(x), torch.atleast_2d(y)
    h = sigmoid(x @ W1.T + b1)
    g = 2 * (h @ W2.T + b2 - y) / y.numel()
    (dW1, db1), (dW2, db2) = chain([(W1, x, h), (W2, h, None)], g, [])
    return dW1, db1, dW2, db2


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
