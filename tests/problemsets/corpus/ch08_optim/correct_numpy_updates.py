"""Honest: both steps computed in NumPy on the tensors' arrays, converted back with torch.from_numpy."""

EXPECT = {"full": True}

import numpy as np
import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    p, g, v = param.numpy(), grad.numpy(), velocity.numpy()
    v = momentum * v + g
    p = p - lr * (g + momentum * v if nesterov else v)
    return torch.from_numpy(p), torch.from_numpy(v)


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    g = grad.numpy()
    m = beta1 * m.numpy() + (1 - beta1) * g
    v = beta2 * v.numpy() + (1 - beta2) * np.square(g)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    p = param.numpy() - lr * m_hat / (np.sqrt(v_hat) + eps)
    return torch.from_numpy(p), torch.from_numpy(m), torch.from_numpy(v)


def training_loop(model, x, y, lr, steps):
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)
        model.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses
