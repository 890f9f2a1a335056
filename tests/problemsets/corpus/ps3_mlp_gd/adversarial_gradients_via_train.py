"""gradients gets its numbers from train (autograd): one step at lr = 1, then a difference."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "automatic differentiation",
        "ps3_gradients_hidden": "automatic differentiation",
        "ps3_gradients_single": "automatic differentiation",
    }
}

import torch


def sigmoid(z):
    return torch.sigmoid(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    start = [W1, b1, W2, b2]
    moved = [p.detach().clone().requires_grad_(True) for p in start]
    train(x, y, *moved, 1.0, 1)
    return tuple((p0 - p1).detach() for p0, p1 in zip(start, moved))


def train(x, y, W1, b1, W2, b2, lr, steps):
    opt = torch.optim.SGD([W1, b1, W2, b2], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses
