"""Honest: in-place updates on clones, a helper for the bias correction, p.data updates and grad.zero_() in the loop, gc and pathlib imported, a scratch cell that tries torch.optim."""

EXPECT = {"full": True, "twin": True}

# %% solution sgd_momentum_step_answer
import gc
from pathlib import Path

import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    v = velocity.clone()
    v.mul_(momentum).add_(grad)
    p = param.clone()
    if nesterov:
        p.add_(grad + momentum * v, alpha=-lr)
    else:
        p.add_(v, alpha=-lr)
    return p, v


# %% solution adam_step_answer
def _unbiased(moment, beta, t):
    return moment / (1.0 - beta**t)


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = m.clone().mul_(beta1).add_(grad, alpha=1 - beta1)
    v = v.clone().mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    return param - lr * _unbiased(m, beta1, t) / (_unbiased(v, beta2, t).sqrt() + eps), m, v


# %% solution training_loop_answer
def training_loop(model, x, y, lr, steps):
    history = []
    for step in range(steps):
        for p in model.parameters():
            if p.grad is not None:
                p.grad.zero_()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad.data
        history.append(float(loss))
    return history


# %% cell at end
scratch = torch.zeros(2, requires_grad=True)
opt = torch.optim.SGD([scratch], lr=0.1, momentum=0.9)  # fine outside the graded functions
print(Path(".").resolve().name, gc.isenabled())
