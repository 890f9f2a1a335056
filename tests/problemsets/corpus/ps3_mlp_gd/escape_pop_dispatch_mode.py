"""gradients takes the grader's dispatch mode off the stack while autograd runs."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "dispatch mode off the stack",
        "ps3_gradients_hidden": "dispatch mode off the stack",
        "ps3_gradients_single": "dispatch mode off the stack",
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

from torch.utils._python_dispatch import _pop_mode_temporarily

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    ps = [p.detach().clone().requires_grad_() for p in (W1, b1, W2, b2)]
    with _pop_mode_temporarily():
        return tuple(torch.autograd.grad(mse_loss(forward(x, *ps), y), ps))


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
