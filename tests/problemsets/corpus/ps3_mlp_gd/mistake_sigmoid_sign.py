"""The seed's sigmoid 1/(1 + e^z): the sign of the exponent is flipped.

Only the sigmoid parts lose points: forward, gradients and train are right given this sigmoid,
and each function is graded on its own (gradients with the student's sigmoid values, train with
gradient descent through the student's sigmoid).
"""

EXPECT = {
    "lose": {
        "ps3_sigmoid_values": "check the sign of the exponent",
        "ps3_sigmoid_stable": "sigmoid(",
    }
}

import torch


def sigmoid(z):
    return 1 / (1 + torch.exp(z))


def forward(x, W1, b1, W2, b2):
    h = sigmoid(x @ W1.T + b1)  # (n, d) @ (d, h) -> (n, h)
    return h @ W2.T + b2  # (n, h) @ (h, o) -> (n, o)


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    if x.dim() == 1:
        x, y = x.unsqueeze(0), y.unsqueeze(0)  # (1, d), (1, o)
    z = x @ W1.T + b1  # (n, h)
    h = sigmoid(z)
    pred = h @ W2.T + b2  # (n, o)
    g_pred = 2 * (pred - y) / pred.numel()  # (n, o)
    dW2 = g_pred.T @ h  # (o, n) @ (n, h) -> (o, h)
    db2 = g_pred.sum(0)  # (o,)
    g_z = (g_pred @ W2) * h * (1 - h)  # (n, h)
    dW1 = g_z.T @ x  # (h, n) @ (n, d) -> (h, d)
    db1 = g_z.sum(0)  # (h,)
    return dW1, db1, dW2, db2


def train(x, y, W1, b1, W2, b2, lr, steps):
    params = [W1, b1, W2, b2]
    losses = []
    for _ in range(steps):
        loss = mse_loss(forward(x, *params), y)
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
    return losses
