"""gradients uses torch.func.grad fetched with getattr on a computed name: the runtime traps see
autograd run; the computed lookup sends the other parts to a person."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "automatic differentiation",
        "ps3_gradients_hidden": "automatic differentiation",
        "ps3_gradients_single": "automatic differentiation",
    },
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
    return torch.sigmoid(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    tool = getattr(getattr(torch, "fu" + "nc"), "gr" + "ad")
    loss = lambda W1, b1, W2, b2: mse_loss(forward(x, W1, b1, W2, b2), y)
    return tuple(tool(loss, argnums=(0, 1, 2, 3))(W1, b1, W2, b2))


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
