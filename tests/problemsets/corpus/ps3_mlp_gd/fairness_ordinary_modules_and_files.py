"""Honest work touching ordinary modules: gc, pathlib, io, inspect, pickle, SimpleNamespace,
a CSV of losses written with open(..., "w"), setattr in a loop, globals(), vars(obj),
breakpoint() and torch.compile in a scratch cell."""

EXPECT = {"full": True}

import gc
import inspect
import io
import pickle
from pathlib import Path
from types import SimpleNamespace

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


def gradients(x, y, W1, b1, W2, b2):
    x, y = x.reshape(-1, W1.shape[1]), y.reshape(-1, W2.shape[0])
    h = sigmoid(x @ W1.T + b1)
    g = 2 * (h @ W2.T + b2 - y) / y.numel()
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


# %% cell at end
cfg = SimpleNamespace()
for name, value in [("lr", 0.5), ("steps", 5)]:
    setattr(cfg, name, value)
print(vars(cfg), "train" in globals(), inspect.signature(train))
g = torch.Generator().manual_seed(0)
X, Y = torch.randn(8, 3, generator=g), torch.randn(8, 2, generator=g)
params = [torch.randn(s, generator=g).requires_grad_() for s in [(4, 3), (4,), (2, 4), (2,)]]
losses = train(X, Y, *params, cfg.lr, cfg.steps)
with open("losses.csv", "w") as f:
    f.write("step,loss\n")
    for step, loss in enumerate(losses):
        f.write(f"{step},{loss}\n")
print(Path("losses.csv").read_text())
pickle.dump(losses, io.BytesIO())
gc.collect()
print(torch.compile(forward)(X, *params).shape)
breakpoint()
