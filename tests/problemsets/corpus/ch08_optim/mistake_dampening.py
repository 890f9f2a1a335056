"""Averages the gradients into the velocity (v <- mu v + (1 - mu) g): dampening, which torch's default does not do."""

EXPECT = {
    "lose": {"sgd_momentum_step_heavy_ball": "dampening", "sgd_momentum_step_nesterov": "dampening"}
}

# %% solution sgd_momentum_step_answer
import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    velocity = momentum * velocity + (1 - momentum) * grad
    direction = grad + momentum * velocity if nesterov else velocity
    return param - lr * direction, velocity


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
