"""gradients runs autograd in a thread, where the per-thread torch modes would not look."""

EXPECT = {
    "lose": {
        "ps3_gradients_output": "starting a thread is not possible while grading",
        "ps3_gradients_hidden": "starting a thread is not possible while grading",
        "ps3_gradients_single": "starting a thread is not possible while grading",
    }
}

import threading

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    out = {}

    def work():
        ps = [p.detach().clone().requires_grad_() for p in (W1, b1, W2, b2)]
        out["g"] = torch.autograd.grad(mse_loss(forward(x, *ps), y), ps)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return tuple(out["g"])


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
