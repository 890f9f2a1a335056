"""gradients raises with the hidden inputs in the message, hoping the feedback echoes them."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "raised ValueError",
        "ps3_gradients_hidden": "raised ValueError",
        "ps3_gradients_single": "raised ValueError",
    }
}

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    raise ValueError(f"{x.tolist()} {W1.tolist()} {y.tolist()}")


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
