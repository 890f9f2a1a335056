"""train as functools.reduce over a generator of batches."""

EXPECT = {"full": True}

import functools

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    x, y = torch.atleast_2d(x), torch.atleast_2d(y)
    h = sigmoid(x @ W1.T + b1)
    g = 2 * (h @ W2.T + b2 - y) / y.numel()
    gz = (g @ W2) * h * (1 - h)
    return gz.T @ x, gz.sum(0), g.T @ h, g.sum(0)


def batches(x, y, steps):
    for _ in range(steps):
        yield x, y


def train(x, y, W1, b1, W2, b2, lr, steps):
    """Gradient descent as a fold over a generator of batches."""
    params = (W1, b1, W2, b2)

    def step(losses, batch):
        loss = mse_loss(forward(batch[0], *params), batch[1])
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(lr * p.grad)
        return [*losses, float(loss)]

    return functools.reduce(step, batches(x, y, steps), [])
