"""gradients delegates to a helper (another cell) that runs backward() and reads .grad."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "automatic differentiation",
        "ps3_gradients_hidden": "automatic differentiation",
        "ps3_gradients_single": "automatic differentiation",
    }
}

import torch


def sigmoid(z):
    return 1 / (1 + torch.exp(-z.clamp(min=-80)))


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    return compute_all(x, y, [W1, b1, W2, b2])


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


# %% cell at end
def compute_all(x, y, params):
    leaves = [p.detach().clone() for p in params]
    for leaf in leaves:
        leaf.requires_grad = True
    mse_loss(forward(x, *leaves), y).backward()
    return tuple(leaf.grad for leaf in leaves)
