"""Honest: Adam in torch's own arrangement (bias corrections folded into the step size), Nesterov written as a look-ahead, a class holding the loop's state, losses returned as a tensor."""

EXPECT = {"full": True}

import math

import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    new_velocity = velocity * momentum + grad
    look_ahead = new_velocity * momentum + grad
    return param - lr * (look_ahead if nesterov else new_velocity), new_velocity


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = torch.lerp(m, grad, 1 - beta1)
    v = v * beta2 + (1 - beta2) * grad * grad
    step_size = lr / (1 - beta1**t)
    denom = v.sqrt() / math.sqrt(1 - beta2**t) + eps
    return param - step_size * m / denom, m, v


class Trainer:
    def __init__(self, model, lr):
        self.model, self.lr = model, lr

    def step(self, x, y):
        loss = ((self.model(x) - y) ** 2).mean()
        self.model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in self.model.parameters():
                p.sub_(self.lr * p.grad)
        return loss.detach()


def training_loop(model, x, y, lr, steps):
    trainer = Trainer(model, lr)
    return torch.stack([trainer.step(x, y) for _ in range(steps)])
