"""torch.special.expit; forward split into helpers; gradients reuse the student's forward pieces."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    return torch.special.expit(z)


def hidden(x, W1, b1):
    return sigmoid(torch.matmul(x, W1.t()) + b1)


def forward(x, W1, b1, W2, b2):
    return torch.matmul(hidden(x, W1, b1), W2.t()) + b2


def mse_loss(pred, y):
    diff = pred - y
    return (diff * diff).sum() / diff.numel()


def sigmoid_prime_from_output(s):
    return s * (1 - s)


def gradients(x, y, W1, b1, W2, b2):
    xb = torch.atleast_2d(x)
    yb = torch.atleast_2d(y)
    hb = hidden(xb, W1, b1)
    pb = torch.matmul(hb, W2.t()) + b2
    gp = 2 * (pb - yb) / pb.numel()
    gz = torch.matmul(gp, W2) * sigmoid_prime_from_output(hb)
    return torch.matmul(gz.t(), xb), gz.sum(0), torch.matmul(gp.t(), hb), gp.sum(0)


def train(x, y, W1, b1, W2, b2, lr, steps):
    params = (W1, b1, W2, b2)
    losses = [0.0] * steps
    for i in range(steps):
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        loss = mse_loss(forward(x, *params), y)
        losses[i] = loss.item()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(lr * p.grad)
    return losses
