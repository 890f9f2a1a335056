"""A flipped sigmoid, with torch.sigmoid patched to agree, hoping the checker uses it."""

EXPECT = {
    "lose": {
        "ps3_sigmoid_values": "check the sign of the exponent",
        "ps3_sigmoid_stable": None,
    }
}  # gradients and train are right for the student's own sigmoid: they keep their points

import torch

_real_exp = torch.exp


def sigmoid(z):
    return 1 / (1 + _real_exp(z))


torch.sigmoid = sigmoid
torch.special.expit = sigmoid
torch.Tensor.sigmoid = sigmoid


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    if x.dim() == 1:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    h = sigmoid(x @ W1.T + b1)
    pred = h @ W2.T + b2
    g = 2 * (pred - y) / pred.numel()
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
