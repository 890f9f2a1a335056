"""torch.sigmoid, F.linear and F.mse_loss; einsum gradients; torch.optim.SGD with zero_grad()."""

EXPECT = {"full": True}

import torch
import torch.nn.functional as F


def sigmoid(z):
    return torch.sigmoid(z)


def forward(x, W1, b1, W2, b2):
    return F.linear(sigmoid(F.linear(x, W1, b1)), W2, b2)


def mse_loss(pred, y):
    return F.mse_loss(pred, y)


def gradients(x, y, W1, b1, W2, b2):
    X = x.reshape(-1, W1.shape[1])  # (n, d)
    Y = y.reshape(X.shape[0], -1)  # (n, o)
    Z = torch.einsum("nd,hd->nh", X, W1) + b1
    Hd = torch.sigmoid(Z)
    P = torch.einsum("nh,oh->no", Hd, W2) + b2
    G = 2.0 * (P - Y) / P.numel()
    dW2 = torch.einsum("no,nh->oh", G, Hd)
    GZ = torch.einsum("no,oh->nh", G, W2) * Hd * (1.0 - Hd)
    dW1 = torch.einsum("nh,nd->hd", GZ, X)
    return dW1, GZ.sum(dim=0), dW2, G.sum(dim=0)


def train(x, y, W1, b1, W2, b2, lr, steps):
    opt = torch.optim.SGD([W1, b1, W2, b2], lr=lr)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        history.append(float(loss))
        loss.backward()
        opt.step()
    return history
