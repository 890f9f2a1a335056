"""gradients imports the course's reference mse_backward with importlib."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "course's own reference",
        "ps3_gradients_hidden": "course's own reference",
        "ps3_gradients_single": "course's own reference",
    },
    # the notebook-wide construct (an obfuscated lookup, dispatch-mode control) goes to a
    # person on every part that earned points
    "review": [
        "ps3_sigmoid_values",
        "ps3_sigmoid_stable",
        "ps3_forward_batch",
        "ps3_forward_single",
        "ps3_mse_loss",
        "ps3_train_losses",
        "ps3_train_updates",
    ],
}

import importlib

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    layers = importlib.import_module("fromscratch." + "layers")
    x, y = torch.atleast_2d(x), torch.atleast_2d(y)
    h = sigmoid(x @ W1.T + b1)
    pred = h @ W2.T + b2
    g = layers.mse_backward(pred, y)
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
