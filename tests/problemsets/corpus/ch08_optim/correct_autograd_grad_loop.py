"""Honest: the loop takes gradients with torch.autograd.grad (no .grad fields at all), and the steps use torch.addcdiv and torch.where-free arithmetic in separate helper cells."""

EXPECT = {"full": True}

# %% solution sgd_momentum_step_answer
import torch


def _velocity(v, g, mu):
    return torch.add(g, v, alpha=mu)


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    new_v = _velocity(velocity, grad, momentum)
    step = _velocity(new_v, grad, momentum) if nesterov else new_v
    return torch.add(param, step, alpha=-lr), new_v


# %% solution adam_step_answer
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = torch.lerp(m, grad, 1 - beta1)
    v = torch.addcmul(v * beta2, grad, grad, value=1 - beta2)
    denom = (v / (1 - beta2**t)).sqrt() + eps
    return torch.addcdiv(param, m / (1 - beta1**t), denom, value=-lr), m, v


# %% solution training_loop_answer
def training_loop(model, x, y, lr, steps):
    params = list(model.parameters())
    losses = []
    for _ in range(steps):
        loss = torch.mean((model(x) - y) ** 2)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
        losses.append(loss.item())
    return losses
