"""gradients uses torch.func.grad fetched with getattr on a computed name (obfuscation)."""

EXPECT = {
    "lose": {
        "ps3_sigmoid_values": "computed attribute name",
        "ps3_sigmoid_stable": "computed attribute name",
        "ps3_forward_batch": "computed attribute name",
        "ps3_forward_single": "computed attribute name",
        "ps3_mse_loss": "computed attribute name",
        "ps3_gradients_output": None,
        "ps3_gradients_hidden": None,
        "ps3_gradients_single": None,
        "ps3_train_losses": "computed attribute name",
        "ps3_train_updates": "computed attribute name",
    },
    "total": 0.0,
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
