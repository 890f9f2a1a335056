"""Calls torch's functional Adam through getattr on a module found by name."""

EXPECT = {
    "lose": {"adam_step_first_steps": "torch.optim", "adam_step_later_step": "torch.optim"},
    "review": ["sgd_momentum_step_heavy_ball", "sgd_momentum_step_nesterov", "training_loop_regression"],
}

# %% solution sgd_momentum_step_answer
import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    velocity = momentum * velocity + grad
    direction = grad + momentum * velocity if nesterov else velocity
    return param - lr * direction, velocity


# %% solution adam_step_answer
import importlib

import torch


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    functional = getattr(importlib.import_module("torch.optim." + "adam"), "adam")
    p, m, v = param.clone(), m.clone(), v.clone()
    functional(
        [p],
        [grad],
        [m],
        [v],
        [],
        [torch.tensor(float(t))],
        amsgrad=False,
        beta1=beta1,
        beta2=beta2,
        lr=lr,
        weight_decay=0.0,
        eps=eps,
        maximize=False,
    )
    return p, m, v


# %% solution training_loop_answer
def training_loop(model, x, y, lr, steps):
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses
