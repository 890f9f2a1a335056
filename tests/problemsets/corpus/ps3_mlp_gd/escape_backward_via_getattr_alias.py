"""gradients calls loss.backward through an alias of getattr and a computed name."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "automatic differentiation",
        "ps3_gradients_hidden": "automatic differentiation",
        "ps3_gradients_single": "automatic differentiation",
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

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


fetch = getattr


def gradients(x, y, W1, b1, W2, b2):
    ps = [p.detach().clone().requires_grad_() for p in (W1, b1, W2, b2)]
    loss = mse_loss(forward(x, *ps), y)
    fetch(loss, "back" + "ward")()
    return tuple(p.grad for p in ps)


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
