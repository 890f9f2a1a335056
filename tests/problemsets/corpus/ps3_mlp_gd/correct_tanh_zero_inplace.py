"""sigmoid = (1 + tanh(z/2))/2; a 1-D branch with outer products; grad.zero_(), p.data updates."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    return 0.5 * (1.0 + torch.tanh(0.5 * z))


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return torch.mean(torch.square(pred - y))


def gradients(x, y, W1, b1, W2, b2):
    if x.dim() == 1:
        h = sigmoid(W1 @ x + b1)  # (h,)
        p = W2 @ h + b2  # (o,)
        gp = 2 * (p - y) / p.numel()  # (o,)
        gz = (W2.T @ gp) * h * (1 - h)  # (h,)
        return torch.outer(gz, x), gz, torch.outer(gp, h), gp
    h = sigmoid(x @ W1.T + b1)
    p = h @ W2.T + b2
    gp = 2 * (p - y) / p.numel()
    gz = (gp @ W2) * h * (1 - h)
    return gz.T @ x, gz.sum(0), gp.T @ h, gp.sum(0)


def train(x, y, W1, b1, W2, b2, lr, steps):
    out = []
    for step in range(steps):
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        out.append(loss.item())
        loss.backward()
        for p in (W1, b1, W2, b2):
            p.data.sub_(lr * p.grad)
            p.grad.zero_()
    return out
