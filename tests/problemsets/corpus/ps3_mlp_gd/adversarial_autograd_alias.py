"""gradients calls autograd under an alias (from torch.autograd import grad as differentiate)."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "automatic differentiation",
        "ps3_gradients_hidden": "automatic differentiation",
        "ps3_gradients_single": "automatic differentiation",
    }
}

import torch
from torch.autograd import grad as differentiate


def sigmoid(z):
    return torch.sigmoid(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    ps = [p.detach().clone().requires_grad_() for p in (W1, b1, W2, b2)]
    return tuple(differentiate(mse_loss(forward(x, *ps), y), ps))


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
