"""Puts the learning rate into the velocity (v <- mu v + lr g, p <- p - v): same parameters while lr is constant, but not torch's velocity, and wrong under a schedule."""

EXPECT = {
    "lose": {
        "sgd_momentum_step_heavy_ball": "learning rate into the velocity",
        "sgd_momentum_step_nesterov": None,
    }
}

# %% solution sgd_momentum_step_answer
import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    velocity = momentum * velocity + lr * grad
    if nesterov:
        return param - (lr * grad + momentum * velocity), velocity
    return param - velocity, velocity


# %% solution adam_step_answer
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


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
