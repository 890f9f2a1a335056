"""gradients in the layer-class style of chapter 5: Lin and Sigmoid objects with a
backward(g) method keeping gradients on the object, an `if W1.requires_grad:` read and a
`with torch.autograd.no_grad():` block; none of it is automatic differentiation."""

EXPECT = {"full": True}

import torch


def sigmoid(z):
    return torch.special.expit(z)


def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


class Lin:
    """A linear layer that keeps its input and its gradients, as chapter 5 builds them."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, g):
        self.gW, self.gb = g.T @ self.x, g.sum(0)
        return g @ self.W


class Sigmoid:
    def __call__(self, z):
        self.out = sigmoid(z)
        return self.out

    def backward(self, g):
        return g * self.out * (1 - self.out)


def gradients(x, y, W1, b1, W2, b2):
    if W1.requires_grad:  # reading the flag is not autograd
        W1, b1, W2, b2 = (p.detach() for p in (W1, b1, W2, b2))
    x, y = x.reshape(-1, W1.shape[1]), y.reshape(-1, W2.shape[0])
    with torch.autograd.no_grad():
        layers = [Lin(W1, b1), Sigmoid(), Lin(W2, b2)]
        out = x
        for layer in layers:
            out = layer(out)
        g = 2 * (out - y) / out.numel()
        for layer in reversed(layers):
            g = layer.backward(g)
    return layers[0].gW, layers[0].gb, layers[2].gW, layers[2].gb


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
